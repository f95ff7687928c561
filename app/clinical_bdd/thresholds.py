"""Numeric thresholds in a sentence ("≥130/80 mmHg", "A1C <7%", "aged 40 to 75 years")."""
from __future__ import annotations

import re

from .model import Threshold

_NUM = r"\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?"
_UNIT = (
    r"(?:mm\s?Hg|mg/dL|mg/dl|mmol/L|mmol/mol|mg/g|mg/mmol|g/dL|ng/mL|pg/mL|µg/mL|mcg/mL|IU/L|U/L|"
    r"mEq/L|m[lL]/min(?:/|\s+per\s+)1\.73\s?m(?:2|²|\^2)?|m[lL]/min|kg/m(?:2|²|\^2)?|kg|bpm|beats/min|"
    r"%|percent|(?:st|nd|rd|th)\s+percentile|years?(?:\s+of\s+age|\s+old)?|yrs?|mo(?:nths?)?)"
)
_CLINICAL_UNITS = re.compile(
    r"mm\s?Hg|mg/d[lL]|mmol|mg/g|mg/mmol|g/dL|ng/mL|pg/mL|µg/mL|mcg/mL|IU/L|U/L|mEq/L|mL/min|"
    r"kg/m|%|percent|percentile|year|yr",
    re.I,
)
_CMP_SYMBOL = {
    "\u2265": ">=", ">=": ">=", "=>": ">=", "\u2a7e": ">=",
    "\u2264": "<=", "<=": "<=", "=<": "<=", "\u2a7d": "<=",
    ">": ">", "<": "<",
}
_CMP_WORDS = {
    "at least": ">=", "greater than or equal to": ">=", "of at least": ">=", "no less than": ">=",
    "equal to or greater than": ">=", "equal to or above": ">=",
    "less than or equal to": "<=", "no more than": "<=", "at most": "<=", "up to": "<=",
    "equal to or less than": "<=",
    "greater than": ">", "more than": ">", "higher than": ">", "above": ">", "over": ">",
    "exceeding": ">", "in excess of": ">", "older than": ">", "younger than": "<",
    "up to and including age": "<=", "over the age of": ">",
    "threshold of": ">=",
    "less than": "<", "lower than": "<", "below": "<", "under": "<",
}
_CMP_SUFFIX = {
    "or higher": ">=", "or greater": ">=", "or more": ">=", "or above": ">=", "or older": ">=",
    "or lower": "<=", "or less": "<=", "or below": "<=", "or younger": "<=",
    "or over": ">=", "and over": ">=", "and above": ">=", "and older": ">=", "or under": "<=",
}
_W = "|".join(sorted((re.escape(w) for w in _CMP_WORDS), key=len, reverse=True))
_S = "|".join(sorted((re.escape(w) for w in _CMP_SUFFIX), key=len, reverse=True))
_SYM = "|".join(sorted((re.escape(w) for w in _CMP_SYMBOL), key=len, reverse=True))

# a footnote letter glued to the unit ("25 mg/mmolb"): the unit is kept, the letter is not
_FOOTNOTE = r"(?:(?<=[a-zA-Z%])[a-e](?![\w/]))?"
_T_SYMBOL = re.compile(r"(?P<cmp>" + _SYM + r")\s*(?P<num>" + _NUM + r")(?:\s*(?P<unit>" + _UNIT + r")" + _FOOTNOTE + r")?(?![\w/])")
_T_WORDS = re.compile(
    r"\b(?P<cmp>" + _W + r")\s+(?:an?\s+|the\s+)?(?P<num>" + _NUM + r")(?:\s*(?P<unit>" + _UNIT + r")" + _FOOTNOTE + r")?(?![\w/])",
    re.I,
)
_T_SUFFIX = re.compile(
    r"(?<![\w.])(?P<num>" + _NUM + r")\s*(?P<unit>" + _UNIT + r")?\s+(?P<cmp>" + _S + r")\b", re.I
)
_T_RANGE = re.compile(
    r"(?:\b(?:aged?|ages|between)\s+)(?P<lo>\d+(?:\.\d+)?)\s*(?:to|and|-|\u2013|\u2014)\s*"
    r"(?P<hi>\d+(?:\.\d+)?)\s*(?P<unit>" + _UNIT + r")?"
    r"|\b(?P<lo2>\d+)\s*(?:to|-|\u2013|\u2014)\s*(?P<hi2>\d+)\s*(?P<unit2>years?(?:\s+of\s+age|\s+old)?)"
    r"|(?<![<>\u2264\u2265\d.])\b(?P<lo3>\d+(?:\.\d+)?)\s*(?:to|-|\u2013|\u2014)\s*(?P<hi3>\d+(?:\.\d+)?)\s*"
    r"(?P<unit3>mg/dL|mmol/L|mg/g|mg/mmol|mm\s?Hg|kg/m(?:2|\u00b2)|%|m[lL]/min(?:(?:/|\s+per\s+)1\.73\s?m(?:2|\u00b2)?)?)"
    # a lower bound before a range: "> 45\u201360 mL/min" is above 45 up to 60
    r"|(?:>|\u2265)\s*(?P<lo4>\d+(?:\.\d+)?)\s*(?:-|\u2013|\u2014)\s*(?P<hi4>\d+(?:\.\d+)?)\s*(?P<unit4>" + _UNIT + r")",
    re.I,
)

_MEASURES: list[tuple[re.Pattern, str, str]] = [
    (re.compile(r"\bsystolic(?:\s+blood\s+pressure|\s+BP)?\b|\bSBP\b", re.I), "systolic blood pressure", "SBP"),
    (re.compile(r"\bdiastolic(?:\s+blood\s+pressure|\s+BP)?\b|\bDBP\b", re.I), "diastolic blood pressure", "DBP"),
    (re.compile(r"\bblood\s+pressure\b|\bBP\b", re.I), "blood pressure", "BP"),
    (re.compile(r"\b(?:HbA1c|A1C|hemoglobin\s+A1c|glycated\s+hemoglobin)\b", re.I), "A1C", "A1C"),
    (re.compile(r"\bnon-HDL(?:-C|\s+cholesterol)?\b", re.I), "non-HDL cholesterol", "non_HDL_C"),
    (re.compile(r"\bLDL(?:-C|\s+cholesterol)?\b|\blow-density\s+lipoprotein(?:\s+cholesterol)?\b", re.I), "LDL cholesterol", "LDL_C"),
    (re.compile(r"\bHDL(?:-C|\s+cholesterol)?\b", re.I), "HDL cholesterol", "HDL_C"),
    (re.compile(r"\btriglycerides?\b|\bTG\b", re.I), "triglycerides", "triglycerides"),
    (re.compile(r"\bLp\(a\)|\blipoprotein\(a\)", re.I), "lipoprotein(a)", "Lp_a"),
    (re.compile(r"\beGFR\b|\bestimated\s+glomerular\s+filtration\s+rate\b|\bGFR\b", re.I), "eGFR", "eGFR"),
    (re.compile(r"\bUACR\b|\burine\s+albumin[- ]to[- ]creatinine\s+ratio\b|\balbuminuria\b", re.I), "UACR", "UACR"),
    (re.compile(r"\bBMI\b|\bbody\s+mass\s+index\b", re.I), "BMI", "BMI"),
    (re.compile(r"\bfasting\s+(?:plasma\s+)?glucose\b|\bFPG\b", re.I), "fasting plasma glucose", "FPG"),
    (re.compile(r"\bglucose\b", re.I), "glucose", "glucose"),
    (re.compile(r"\b(?:10-year\s+)?ASCVD\s+risk\b", re.I), "10-year ASCVD risk", "ASCVD_risk"),
    # "10-year cardiovascular disease (CVD) risk": the abbreviation in brackets is part of the name
    (re.compile(r"\b10-year\s+(?:(?:cardiovascular|CVD)(?:\s+disease)?\s+(?:\([A-Z]{2,6}\)\s+)?)?risk\b", re.I), "10-year CVD risk", "CVD_risk"),
    # "10-year risk of CVD", "10‑year risk of cardiovascular disease" (NICE, non-breaking hyphen)
    (re.compile(r"\b10[-\u2011\u2010]year\s+risk\s+of\s+(?:CVD|cardiovascular\s+disease)\b", re.I), "10-year CVD risk", "CVD_risk"),
    (re.compile(r"\b(?:LVEF|ejection\s+fraction|EF)\b", re.I), "LVEF", "LVEF"),
    (re.compile(r"\bheart\s+rate\b|\bresting\s+HR\b", re.I), "heart rate", "heart_rate"),
    (re.compile(r"\bpotassium\b|\bK\+", re.I), "serum potassium", "potassium"),
    (re.compile(r"\bcoronary\s+artery\s+calcium(?:\s+score)?\b|\bCAC(?:\s+score)?\b", re.I), "CAC score", "CAC"),
    (re.compile(r"\bhemoglobin\b|\bHb\b", re.I), "hemoglobin", "hemoglobin"),
    (re.compile(r"\b(?:serum\s+)?creatinine\b", re.I), "serum creatinine", "creatinine"),
    (re.compile(r"\bweight\s+loss\b", re.I), "weight loss", "weight_loss"),
    (re.compile(r"\b(?:aged?|years\s+old|years\s+of\s+age)\b", re.I), "age", "age"),
]
_TARGET_WORDS = re.compile(
    r"\b(?:goals?|targets?|targeting|aim(?:ing)?|achieve|achieving|attain|maintain(?:ing)?|"
    r"treat(?:ed)?\s+to|lower(?:ed|ing)?\s+to|reduc(?:e|ed|ing|tion)\s+to|controlled?\s+to|keep)\b",
    re.I,
)


# "7.5% to less than 10%": two cut-offs of one measure
_TO_LESS_THAN = re.compile(
    r"(?P<lo>\d+(?:\.\d+)?)\s*%?\s+to\s+(?:(?:less\s+than|under|below)\s+|<\s*)(?P<hi>\d+(?:\.\d+)?)\s*%"
)
# "does not reduce blood pressure to below 140/80": applies at or above it
_NOT_REACHED = re.compile(
    r"\b(?:(?:does|do|did|has|have|is|are)\s+not|fails?\s+to|failed\s+to|unable\s+to|not)\s+"
    r"(?:[\w/-]+\s+){0,3}?(?:reduce[ds]?|lower(?:ed|s)?|bring|brought|controlled|kept|maintained|achieve[ds]?|reach(?:ed|es)?)\s+"
    r"(?:[\w/-]+\s+){0,4}?(?:to\s+)?$",
    re.I,
)
_INVERSE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
# where a cut-off qualifies the action: a dose change, a review, an example
_CAVEAT_CLAUSE = re.compile(
    r"\b(?:dose|doses|dosing|review|discontinue[ds]?|stop(?:ped)?|continue[ds]?|halve[ds]?|"
    r"adjust(?:ed)?|titrate[ds]?|even\s+if|such\s+as|e\.g\.|for\s+example|including|"
    # a cut-off named in contrast ("< 150 rather than < 140 as for younger patients") is not the statement's
    r"rather\s+than|instead\s+of|as\s+opposed\s+to)\b",
    re.I,
)
_EXAMPLE_WORDS = {"such as", "e.g.", "for example", "including"}
_EXAMPLE_ENDS = re.compile(r"\b(?:(?:is|are)\s+(?:not\s+)?(?:recommended|suggested|indicated|advised)|should|must)\b", re.I)
_CLAUSE_BOUNDARY = re.compile(r";|,\s*(?:and|but|or)?\s*|\s+and\s+(?=the\s+dose|review|discontinue|reduce|stop|continue)|[(\[]|:")
_ALTERNATE = re.compile(r"^\s*[\[(]\s*$")
_ABOVE_GOAL = re.compile(
    r"^\s*(?P<dir>above|below)\s+(?:the\s+|their\s+|the\s+person's\s+)?(?:individuali[sz]ed\s+)?(?:glycemic\s+)?(?:goal|target)",
    re.I,
)
_FALLS_BY = re.compile(r"\b(?P<verb>fall|falls|drop|drops|rise|rises)\s+by\s*$", re.I)


def _norm_unit(unit: str | None) -> str:
    if not unit:
        return ""
    u = re.sub(r"\s+", " ", unit.strip())
    low = u.lower()
    if low.replace(" ", "") == "mmhg":
        return "mmHg"
    if low == "percent":
        return "%"
    if low.startswith(("year", "yr")):
        return "years"
    if low.endswith("percentile"):
        return "percentile"
    if low.startswith("mo"):
        return "months"
    if low == "mg/dl":
        return "mg/dL"
    if low.startswith("ml/min"):
        # "ml/min per 1.73 m²" and "mL/min/1.73m2" are one unit
        return "mL/min/1.73 m2" if "1.73" in low else "mL/min"
    return u.replace("²", "2").replace("^2", "2")


# units that only one measure is given in
_UNIT_MEASURE = {"mL/min/1.73 m2": ("eGFR", "eGFR"), "mg/g": ("UACR", "UACR"), "mg/mmol": ("UACR", "UACR")}


def _find_measure(text: str, start: int, unit: str, value: str) -> tuple[str, str, int]:
    """Nearest known measure before ``start`` in the same clause."""
    lo = max(0, start - 70)
    window = text[lo:start]
    cut = max(window.rfind(";"), window.rfind(". "))
    if cut >= 0:
        lo, window = lo + cut + 1, window[cut + 1 :]
    if unit == "years":
        return "age", "age", start
    best: tuple[int, str, str, int] | None = None
    for pattern, name, column in _MEASURES:
        for m in pattern.finditer(window):
            if best is None or m.end() > best[0]:
                best = (m.end(), name, column, m.start())
    if best is not None:
        name, column = best[1], best[2]
        if column == "creatinine" and unit in _UNIT_MEASURE:
            # "… eGFR and urinary albumin creatinine are ≥25 mL/min/1.73 m2 or ≥300 mg/g": the unit
            # says which measure; a serum creatinine is never in mL/min/1.73 m2 or mg/g
            name, column = _UNIT_MEASURE[unit]
        if column in ("SBP", "DBP") and "/" in value:
            name, column = "blood pressure", "BP"
        return name, column, lo + best[3]
    if unit == "mmHg":
        return ("blood pressure", "BP", start) if "/" in value else ("systolic blood pressure", "SBP", start)
    if unit == "percentile":
        return "BMI percentile", "BMI_percentile", start
    return "value", "value", start


# At most this many thresholds per statement (its Scenario Outline's columns): bounds
# the work per statement (refine reads each one's clause from the statement's start).
MAX_THRESHOLDS = 12
# matched at a position (not on a slice of the rest of the text: one copy per match)
_WORD_AFTER = re.compile(r"\s+[a-z]{3,}", re.I)
_COUNT_AFTER = re.compile(r"\s+(?:of\s+(?:these|those|the)\s+)?[a-z]{3,}", re.I)
_CHANGE_AFTER = re.compile(r"\s*(reduction|decrease|increase|rise|decline|lowering|change)s?\s+(?:in|of)\s+", re.I)
# "slow kidney function decline in people with an eGFR …": the decline is not of the eGFR
_WHO_BETWEEN = re.compile(r"\b(?:people|patients|persons|adults|children|individuals|those|women|men|with|who)\b", re.I)


def extract_thresholds(text: str, idx: list[int]) -> list[Threshold]:
    found: list[tuple[int, int, str, str, str]] = []  # start, end, cmp, value, unit
    for m in _T_RANGE.finditer(text):
        lo = m.group("lo") or m.group("lo2") or m.group("lo3") or m.group("lo4")
        hi = m.group("hi") or m.group("hi2") or m.group("hi3") or m.group("hi4")
        unit = _norm_unit(m.group("unit") or m.group("unit2") or m.group("unit3") or m.group("unit4")) or (
            "years" if re.match(r"age", m.group(0), re.I) else ""
        )
        if float(lo) < float(hi):
            found.append((m.start(), m.end(), "between", f"{lo}-{hi}", unit))
    for m in _T_SYMBOL.finditer(text):
        unit = m.group("unit")
        if not unit:  # "<7.0–7.5%": the unit follows the second number
            nxt = re.compile(r"\s*(?:-|\u2013|\u2014|to)\s*\d+(?:\.\d+)?\s*(" + _UNIT + r")").match(text, m.end())
            unit = nxt.group(1) if nxt else None
        found.append((m.start(), m.end(), _CMP_SYMBOL[m.group("cmp")], m.group("num"), _norm_unit(unit)))
    for m in _T_WORDS.finditer(text):
        age_words = re.search(r"older|younger|\bage\b", m.group("cmp"), re.I)
        if not m.group("unit") and _WORD_AFTER.match(text, m.end()) and not age_words:
            continue  # "at least 1 minute", "no more than 2 standard drinks": not a measurement
        unit = _norm_unit(m.group("unit")) or ("years" if age_words else None)
        found.append((m.start(), m.end(), _CMP_WORDS[m.group("cmp").lower()], m.group("num"), unit))
    for m in _T_SUFFIX.finditer(text):
        if not m.group("unit") and _COUNT_AFTER.match(text, m.end()):
            continue  # "1 or more risk factors", "1 or more CVD risk factors": a count, not a measurement
        found.append((m.start(), m.end(), _CMP_SUFFIX[m.group("cmp").lower()], m.group("num"), _norm_unit(m.group("unit"))))
    for m in _TO_LESS_THAN.finditer(text):
        found.append((m.start("lo"), m.end("lo") + 1, ">=", m.group("lo"), "%"))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    result: list[Threshold] = []
    last_end = -1
    used_columns: dict[str, int] = {}
    for start, end, cmp_, value, unit in found:
        if len(result) >= MAX_THRESHOLDS:
            break  # an outline is for a few cut-offs; a list of hundreds is data, not a rule
        if start < last_end:
            continue
        value = re.sub(r"\s+", "", value)
        measure, column, mpos = _find_measure(text, start, unit, value)
        if measure == "value" and not (unit and _CLINICAL_UNITS.search(unit)):
            continue  # "at least 150 minutes" etc.: not a patient measurement
        if unit == "" and measure == "value":
            continue
        if measure in ("age",) and unit == "":
            unit = "years"
        if "/" in value and column not in ("BP",):
            if unit != "mmHg":
                continue
            measure, column = "blood pressure", "BP"
        if unit == "percentile" and not measure.endswith("percentile"):
            measure, column = f"{measure} percentile", f"{column}_percentile"
        after = _CHANGE_AFTER.match(text, end)
        before = re.search(
            r"\b(reduction|decrease|increase|rise|decline|lowering|change)s?\s+(?:in|of)(?:\s+(?:the\s+)?[\w\s-]{0,30}|\s*)$",
            text[max(0, start - 50) : start],
            re.I,
        )
        if after:
            # the measure named right after "reduction in"
            for pattern, m_name, m_col in _MEASURES:
                mm = pattern.match(text, after.end())
                if mm:
                    measure, column = f"{after.group(1).lower()} in {m_name}", f"{m_col}_{after.group(1).lower()}"
                    break
        elif before and measure != "value" and not _WHO_BETWEEN.search(before.group(0)):
            measure, column = f"{before.group(1).lower()} in {measure}", f"{column}_{before.group(1).lower()}"
        # goal words sit around the measure: "A1C goal of <7%", "BP should be lowered to <130"
        between = text[max(0, min(mpos, start) - 20) : start]
        kind = "target" if _TARGET_WORDS.search(between) else "condition"
        if cmp_ == "between":
            kind = "condition"
        n = used_columns.get(column, 0) + 1
        used_columns[column] = n
        col = column if n == 1 else f"{column}_{n}"
        last_end = end
        raw = text[start:end].strip()
        result.append(
            Threshold(
                measure=measure,
                column=col,
                comparator=cmp_,
                value=value,
                unit=unit,
                kind=kind,
                raw=raw,
                span=(idx[start], idx[end - 1] + 1),
            )
        )
    return result


def or_groups(sentence: str, thresholds: list[Threshold]) -> list[list[int]]:
    """The runs of neighbouring applicability cut-offs joined by "or" / "and/or"
    ("initiate at SBP >=140 or DBP >=90"), as lists of indexes: an "or" joins the
    cut-offs it coordinates only, never the population's age or a goal."""
    pos, spans = 0, []
    for t in thresholds:
        at = sentence.find(t.raw, pos) if t.raw else -1
        if at < 0:
            return []
        spans.append((at, at + len(t.raw)))
        pos = at + len(t.raw)
    groups: list[list[int]] = []
    for i in range(len(thresholds) - 1):
        a, b = thresholds[i], thresholds[i + 1]
        if a.kind != "condition" or b.kind != "condition" or a.excludes or b.excludes:
            continue
        between = sentence[spans[i][1] : spans[i + 1][0]]
        if re.search(r"\bor\b|and/or", between, re.I) and not re.search(r"\band\b(?!/)|[;:]", between, re.I):
            if groups and groups[-1][-1] == i:
                groups[-1].append(i + 1)
            else:
                groups.append([i, i + 1])
    return groups


def threshold_logic(sentence: str, thresholds: list[Threshold]) -> str:
    """"any" when consecutive thresholds are joined by "or" / "and/or"."""
    pos = 0
    spans = []
    for t in thresholds:
        at = sentence.find(t.raw, pos)
        if at < 0:
            return "all"
        spans.append((at, at + len(t.raw)))
        pos = at + len(t.raw)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        between = sentence[end:start]
        if re.search(r"\bor\b|and/or", between, re.I) and not re.search(r"\band\b(?!/)", between, re.I):
            if _RESPECTIVELY_AND.search(sentence[: spans[0][0]]) and re.match(r"\s*,?\s*respectively\b", sentence[spans[-1][1] :], re.I):
                # "when X and Y are ≥25 … or ≥300 …, respectively": both measures, one cut-off each
                continue
            return "any"
    return "all"


_RESPECTIVELY_AND = re.compile(r"\band\b(?!/)[^,;]*\b(?:are|is|of|at|remain)\s*$", re.I)



def is_measure_name(text: str) -> bool:
    """ "an eGFR", "the A1C": nothing but a measure's name."""
    text = re.sub(r"^(?:an?|the|their|his|her)\s+", "", text.strip(), flags=re.I)
    return any(p.fullmatch(text) for p, _, _ in _MEASURES)


_NOT_AGE = re.compile(r"\b(?P<what>duration|life\s+expectancy)\s+(?:of\s+)?(?:\w+\s+){0,2}?$", re.I)


def _measure_right_after(after: str) -> tuple[str, str] | None:
    """A measure named straight after its cut-off: "a 10% or greater 10-year CVD
    risk" (the nearest name before it may belong to another cut-off)."""
    m = re.match(r"\s+(?:estimated\s+)?", after)
    rest = after[m.end() :] if m else ""
    for pattern, name, column in _MEASURES:
        if column != "age" and pattern.match(rest):
            return name, column
    return None


def refine(text: str, found: list[Threshold]) -> tuple[list[Threshold], list[Threshold]]:
    """Direction, alternates and applicability of the thresholds of one
    statement: returns (thresholds the scenario tests, caveats)."""
    out: list[tuple[Threshold, int]] = []  # with the end of each in text
    caveats: list[Threshold] = []
    pos = 0
    for t in found:
        at = text.find(t.raw, pos)
        if at < 0:
            out.append((t, pos))
            continue
        pos = at + len(t.raw)
        before, after = text[max(0, at - 80) : at], text[pos : pos + 60]
        # the same cut-off in another unit, in brackets right after the first
        if out and _ALTERNATE.match(text[out[-1][1] : at]) and t.comparator == out[-1][0].comparator:
            out[-1][0].alternates.append({"value": t.value, "unit": t.unit})
            continue
        if _NOT_REACHED.search(before[-60:]) and t.comparator in _INVERSE:
            t.comparator, t.kind = _INVERSE[t.comparator], "condition"
        goal = _ABOVE_GOAL.match(after)
        if goal:
            side = goal.group("dir").lower()
            t.measure, t.column = f"{t.measure} {side} goal", f"{t.column}_{side}_goal"
        not_age = _NOT_AGE.search(before) if t.measure == "age" else None
        if not_age:
            # "duration of ≥5 years", "a life expectancy of at least 10 years": not the patient's age
            name = re.sub(r"\s+", " ", not_age.group("what").lower())
            t.measure, t.column = name, name.replace(" ", "_")
        elif t.measure == "age" and re.search(r"\bfor\s+$", before):
            t.kind = "caveat"  # "take aspirin daily for at least 10 years": how long, not who
            caveats.append(t)
            continue
        named_after = _measure_right_after(after)
        if named_after and named_after[1] == "creatinine" and t.unit in _UNIT_MEASURE:
            named_after = _UNIT_MEASURE[t.unit]  # "≥300 mg/g creatinine": the ratio's denominator
        if named_after and named_after[0] != t.measure and t.kind != "target":
            t.measure, t.column = named_after
        falls = _FALLS_BY.search(before)
        if falls and t.measure != "value":
            noun = falls.group("verb").lower().rstrip("s")
            t.measure, t.column = f"{noun} in {t.measure}", f"{t.column}_{noun}"
        bounds = [b.end() for b in _CLAUSE_BOUNDARY.finditer(text, 0, at)]
        clause_start = bounds[-1] if bounds else 0
        caveat = _CAVEAT_CLAUSE.search(text[clause_start:at])
        if caveat and caveat.group(0).lower() in _EXAMPLE_WORDS and _EXAMPLE_ENDS.search(text[clause_start + caveat.end() : at]):
            # "a risk system such as SCORE is recommended for adults aged >40": the example ended at the verb
            caveat = None
        # an example of a goal ("less stringent goals (such as <8%)") is still the goal
        if caveat and not (t.kind == "target" and caveat.group(0).lower() in _EXAMPLE_WORDS):
            t.kind = "caveat"
            caveats.append(t)
            continue
        out.append((t, pos))
    return [t for t, _ in out], caveats
