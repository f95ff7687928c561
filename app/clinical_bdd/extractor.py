"""Extract clinical recommendations from guideline prose (plain text or Markdown).

Rule-based and deterministic: the same input always yields the same output.
Handles recommendation lists, ACC/AHA statements with (Class I, LOE A) or
(COR 2a, LOE B-R), ADA-style graded statements ("… should be … . A"),
negations ("should not", "is not recommended"), populations with compound
conditions ("In adults with X and Y, …") and numeric thresholds
("≥130/80 mmHg", "A1C <7%", "LDL-C ≥190 mg/dL", "aged 40 to 75 years").
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, fields


class GenerationTimeout(Exception):
    """The request deadline passed while extracting or generating."""


# --------------------------------------------------------------------------
# data model


@dataclass
class Threshold:
    measure: str
    column: str
    comparator: str  # ">=", ">", "<=", "<", "between"
    value: str  # "7", "130/80", or "40-75" for ranges
    unit: str
    kind: str  # "condition" (who the rule applies to) or "target" (a goal)
    raw: str
    span: tuple[int, int]

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in _THRESHOLD_FIELDS}
        d["span"] = {"start": self.span[0], "end": self.span[1]}
        return d


@dataclass
class Recommendation:
    id: str
    text: str
    section: str | None
    strength: str | None
    class_of_recommendation: str | None
    level_of_evidence: str | None
    grade: str | None
    population: str | None
    conditions: list[str]
    excluded_conditions: list[str]
    criteria: list[str]
    action: str
    negated: bool
    thresholds: list[Threshold] = field(default_factory=list)
    threshold_logic: str = "all"  # "any" when thresholds are joined by "or"
    span: tuple[int, int] = (0, 0)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in _RECOMMENDATION_FIELDS}
        d["conditions"] = list(self.conditions)
        d["excluded_conditions"] = list(self.excluded_conditions)
        d["criteria"] = list(self.criteria)
        d["thresholds"] = [t.to_dict() for t in self.thresholds]
        d["span"] = {"start": self.span[0], "end": self.span[1]}
        return d


_THRESHOLD_FIELDS = [f.name for f in fields(Threshold)]
_RECOMMENDATION_FIELDS = [f.name for f in fields(Recommendation)]


# --------------------------------------------------------------------------
# segmentation of the document into units (list items / paragraphs)

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(
    r"^\s*(?:[-*+\u2022]|\d{1,3}(?:\.\d{1,3})*[.)]?|\(?[a-z]\)|[a-z]\.)\s+(?=\S)"
)
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass
class _Unit:
    start: int
    end: int
    section: str | None
    strength_cells: list[str] = field(default_factory=list)


def _segment(content: str) -> list[_Unit]:
    units: list[_Unit] = []
    section: str | None = None
    current: _Unit | None = None
    pos = 0
    for line in content.splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        body = line.rstrip("\r\n")
        stripped = body.strip()
        line_end = line_start + len(body)
        if not stripped:
            current = None
            continue
        heading = _HEADING.match(body)
        if heading:
            section = _clean(heading.group("title"))[0]
            current = None
            continue
        if stripped.startswith("|"):
            current = None
            if _TABLE_SEP.match(stripped):
                continue
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if not cells:
                continue
            longest = max(cells, key=len)
            offset = body.find(longest)
            others = [c for c in cells if c is not longest]
            units.append(
                _Unit(line_start + offset, line_start + offset + len(longest), section, others)
            )
            continue
        item = _LIST_ITEM.match(body)
        if item or current is None:
            text_start = line_start + (item.end() if item else len(body) - len(body.lstrip()))
            current = _Unit(text_start, line_end, section)
            units.append(current)
        else:
            current.end = line_end
    return units


# --------------------------------------------------------------------------
# cleaning with an offset map back into the original content

_MD_INLINE = re.compile(r"\*\*|__|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")


def _clean(raw: str, base: int = 0) -> tuple[str, list[int]]:
    """Collapse whitespace and strip Markdown emphasis; return the clean text
    and, for each clean character, its offset in the original content."""
    skip: set[int] = set()
    if "*" in raw or "_" in raw or "`" in raw:
        for m in _MD_INLINE.finditer(raw):
            skip.update(range(m.start(), m.end()))
    if "[" in raw:
        # Markdown links [text](url) -> text
        for m in re.finditer(r"\[([^\]]+)\]\([^)]*\)", raw):
            skip.add(m.start())
            skip.update(range(m.start(1) + len(m.group(1)), m.end()))
    out: list[str] = []
    idx: list[int] = []
    for m in _NON_SPACE.finditer(raw):
        s, e = m.start(), m.end()
        if skip and any(i in skip for i in range(s, e)):
            kept = [i for i in range(s, e) if i not in skip]
            if not kept:
                continue
            token = "".join(raw[i] for i in kept)
            positions = [base + i for i in kept]
        else:
            token = m.group()
            positions = range(base + s, base + e)
        if out:
            out.append(" ")
            idx.append(base + s - 1)
        out.append(token)
        idx.extend(positions)
    return "".join(out), idx


_NON_SPACE = re.compile(r"\S+")


# --------------------------------------------------------------------------
# sentences

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|vs|etc|approx|Dr|Drs|No|Fig|al|min|max|Ref|cf|St|Jr|Sr|mg|dL)\.|\b[A-Z]\.)$"
)
_SENT_END = re.compile(r"[.!?](?=\s+[\"'(\[]?[A-Z0-9\u2265\u2264<>])")


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for m in _SENT_END.finditer(text):
        end = m.end()
        if _ABBREV.search(text[start:end]):
            continue
        # a decimal such as "7." followed by space is still a sentence end
        seg = text[start:end].strip()
        if len(seg.split()) < 2:
            continue
        spans.append((start, end))
        start = end
        while start < len(text) and text[start] == " ":
            start += 1
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text)))
    return spans


# --------------------------------------------------------------------------
# strength / grade

_ADA_TRAILING_GRADE = re.compile(r"(?:(?<=[.)\]])|(?<=[.)\]]\s))\s*\(?\b([ABCE])\b\)?\s*$")
_PAREN = re.compile(r"\s*\(([^()]{1,120})\)")
_COR = re.compile(
    r"\b(?:Class(?:\s+of\s+Recommendation)?|COR)\s*[:=]?\s*(III|IIa|IIb|II|I|3|2a|2b|1)\b"
    r"(?:\s*[:\-\u2013]\s*(No Benefit|Harm))?",
    re.I,
)
_LOE = re.compile(
    r"\b(?:LOE|Level\s+of\s+Evidence|Level)\s*[:=]?\s*([ABC](?:-(?:R|NR|LD|EO))?)\b", re.I
)
_GRADE = re.compile(r"\b(?:Grade|Evidence\s+grade)\s*[:=]?\s*([A-E])\b", re.I)
_CELL_COR = re.compile(r"^(III|IIa|IIb|I|3|2a|2b|1)(?:\s*[:\-\u2013]\s*(No Benefit|Harm))?$", re.I)
_CELL_LOE = re.compile(r"^([ABC](?:-(?:R|NR|LD|EO))?)$", re.I)

_ROMAN = {"1": "I", "2a": "IIa", "2b": "IIb", "3": "III"}


def _norm_cor(value: str) -> str:
    v = value.strip()
    low = v.lower()
    if low in _ROMAN:
        return _ROMAN[low]
    return {"i": "I", "iia": "IIa", "iib": "IIb", "ii": "II", "iii": "III"}.get(low, v)


# --------------------------------------------------------------------------
# recommendation cues and negation

_CUE = re.compile(
    r"\b(?:should|shall|must)\b"
    r"|\b(?:is|are)\s+(?:(?:strongly|generally|also|routinely|usually|not|no\s+longer)\s+){0,2}"
    r"(?:recommended|indicated|suggested|preferred|advised|reasonable|beneficial|appropriate|"
    r"useful|contraindicated|harmful|warranted|encouraged)\b"
    r"|\b(?:may|might|can|could)\s+be\s+(?:considered|reasonable|useful|beneficial|appropriate)\b"
    r"|\b(?:is|are)\s+(?:the\s+|a\s+)?(?:preferred|first-line|treatment\s+of\s+choice)\b"
    r"|\bwe\s+(?:recommend|suggest)\b|\brecommend(?:s|ed)?\s+(?:that|against)\b"
    r"|^(?:consider|avoid|do\s+not|use|initiate|start|screen|measure|prescribe|offer|refer|assess|"
    r"evaluate|monitor|obtain|check|perform|educate|counsel|encourage|provide|individualize|treat|"
    r"test|discontinue|continue|administer|review)\b",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:should|must|shall|can|may)\s+(?:not|never)\b"
    r"|\b(?:is|are)\s+not\s+(?:\w+\s+)?(?:recommended|indicated|advised|suggested|beneficial|"
    r"useful|appropriate|warranted)\b"
    r"|\bnot\s+(?:be\s+)?recommended\b|\bno\s+longer\s+recommended\b"
    r"|\b(?:should|must)\s+(?:\w+\s+)?(?:be\s+)?avoided\b|^avoid\b|^do\s+not\b"
    r"|\b(?:is|are)\s+(?:contraindicated|harmful)\b|\brecommend(?:s|ed)?\s+against\b"
    r"|\bis\s+of\s+no\s+benefit\b",
    re.I,
)

# --------------------------------------------------------------------------
# populations and conditions

_POP_WORDS = (
    r"(?:all\s+|most\s+|many\s+|selected\s+|nonpregnant\s+|older\s+|young\s+|pregnant\s+|"
    r"asymptomatic\s+|hospitali[sz]ed\s+|postmenopausal\s+|premenopausal\s+|frail\s+|elderly\s+|"
    r"critically\s+ill\s+|symptomatic\s+|high-risk\s+|otherwise\s+healthy\s+|healthy\s+|"
    r"nonpregnant\s+|adult\s+|pediatric\s+|obese\s+|overweight\s+)*"
    r"(?:adults?|patients?|people|persons?|individuals?|children|child|adolescents?|youth|"
    r"infants?|newborns?|neonates?|women|men|girls|boys|those|anyone|survivors?)"
)
_LEADING_POP = re.compile(
    r"^(?:In|For|Among|Amongst|Within)\s+(?P<pop>.+?)\s*,\s*(?P<rest>.+)$", re.I
)
_SUBJECT_POP = re.compile(
    r"^(?P<pop>" + _POP_WORDS + r"\b[^,;]*?)\s+(?P<modal>should|must|shall)\s+(?P<rest>.+)$", re.I
)
_TRAILING_POP = re.compile(
    r"\s+(?:in|for|among|to)\s+(?P<pop>" + _POP_WORDS + r"\b.*)$", re.I
)
_CLINICIAN_SUBJECT = re.compile(
    r"^(?:clinicians?|providers?|physicians?|prescribers?|practitioners?|the\s+clinician|"
    r"health\s*care\s+(?:professionals?|providers?|teams?)|care\s+teams?|we)\b",
    re.I,
)

# participle -> imperative, to phrase passive actions ("should be measured")
_VERB_BASE = {
    "used": "use", "initiated": "initiate", "started": "start", "prescribed": "prescribe",
    "considered": "consider", "measured": "measure", "performed": "perform",
    "screened": "screen", "tested": "test", "treated": "treat", "monitored": "monitor",
    "offered": "offer", "given": "give", "administered": "administer", "targeted": "target",
    "checked": "check", "assessed": "assess", "evaluated": "evaluate", "referred": "refer",
    "obtained": "obtain", "avoided": "avoid", "continued": "continue",
    "discontinued": "discontinue", "stopped": "stop", "reduced": "reduce",
    "intensified": "intensify", "added": "add", "titrated": "titrate",
    "encouraged": "encourage", "counseled": "counsel", "counselled": "counsel",
    "individualized": "individualize", "individualised": "individualize",
    "recommended": "recommend", "included": "include", "combined": "combine",
    "repeated": "repeat", "confirmed": "confirm", "reviewed": "review", "educated": "educate",
    "vaccinated": "vaccinate", "immunized": "immunize", "adjusted": "adjust",
    "withheld": "withhold", "maintained": "maintain", "lowered": "lower",
    "calculated": "calculate", "estimated": "estimate", "documented": "document",
    "implemented": "implement", "provided": "provide", "applied": "apply",
    "examined": "examine", "identified": "identify", "managed": "manage",
    "instructed": "instruct", "switched": "switch", "de-escalated": "de-escalate",
    "deintensified": "deintensify", "restricted": "restrict", "limited": "limit",
    "made": "make", "diagnosed": "diagnose", "achieved": "achieve", "advised": "advise",
    "informed": "inform", "supplemented": "supplement", "scheduled": "schedule", "done": "do", "taken": "take",
    "sought": "seek", "drawn": "draw", "kept": "keep", "held": "hold", "begun": "begin",
    "undertaken": "undertake", "seen": "see", "pursued": "pursue", "followed": "follow",
}

_PASSIVE = re.compile(
    r"^(?P<subj>.+?)\s+(?:should|must|shall|can|may)\s+(?:not\s+|never\s+|also\s+|generally\s+|"
    r"routinely\s+|usually\s+|first\s+)*be\s+(?:\w+ly\s+)?(?P<part>[\w-]+ed|given|withheld|made|done|taken|sought|drawn|kept|held|begun|undertaken|seen)\b"
    r"(?P<rest>.*)$",
    re.I,
)
_ACTIVE = re.compile(
    r"^(?P<subj>.+?)\s+(?:should|must|shall)\s+(?:not\s+|never\s+|also\s+|generally\s+|"
    r"routinely\s+|usually\s+|first\s+)*(?P<rest>(?!be\b)\w.*)$",
    re.I,
)
_ADJ = re.compile(
    r"^(?P<subj>.+?)\s+(?:is|are|may\s+be|might\s+be|can\s+be|could\s+be)\s+"
    r"(?:(?:strongly|generally|also|routinely|usually|not|no\s+longer|the|a|\w+ly)\s+){0,2}"
    r"(?:recommended|indicated|suggested|preferred|advised|reasonable|beneficial|appropriate|"
    r"useful|contraindicated|harmful|warranted|encouraged|considered|first-line)\b(?P<rest>.*)$",
    re.I,
)
_PREFERRED = re.compile(
    r"^(?P<subj>.+?)\s+(?:is|are)\s+(?P<tail>(?:the|a)\s+(?:preferred|first-line|treatment\s+of\s+choice)\b.*)$",
    re.I,
)
_IT_IS = re.compile(
    r"^it\s+is\s+(?:not\s+)?(?:recommended|reasonable|advised|suggested)\s+(?:that|to)\s+(?P<rest>.+)$",
    re.I,
)
_WE_RECOMMEND = re.compile(
    r"^(?:we|the\s+\w+(?:\s+\w+)?)\s+(?:recommend|suggest)s?\s+(?:that\s+|against\s+)?(?P<rest>.+)$",
    re.I,
)
_IMPERATIVE = re.compile(r"^(?P<verb>consider|avoid|do\s+not\s+\w+)\s+(?P<rest>.+)$", re.I)


# --------------------------------------------------------------------------
# thresholds

_NUM = r"\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?"
_UNIT = (
    r"(?:mm\s?Hg|mg/dL|mg/dl|mmol/L|mmol/mol|mg/g|mg/mmol|g/dL|ng/mL|pg/mL|µg/mL|mcg/mL|IU/L|U/L|"
    r"mEq/L|mL/min/1\.73\s?m(?:2|²|\^2)?|mL/min|kg/m(?:2|²|\^2)?|kg|bpm|beats/min|"
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
    "less than": "<", "lower than": "<", "below": "<", "under": "<",
}
_CMP_SUFFIX = {
    "or higher": ">=", "or greater": ">=", "or more": ">=", "or above": ">=", "or older": ">=",
    "or lower": "<=", "or less": "<=", "or below": "<=", "or younger": "<=",
}
_W = "|".join(sorted((re.escape(w) for w in _CMP_WORDS), key=len, reverse=True))
_S = "|".join(sorted((re.escape(w) for w in _CMP_SUFFIX), key=len, reverse=True))
_SYM = "|".join(sorted((re.escape(w) for w in _CMP_SYMBOL), key=len, reverse=True))

_T_SYMBOL = re.compile(r"(?P<cmp>" + _SYM + r")\s*(?P<num>" + _NUM + r")(?:\s*(?P<unit>" + _UNIT + r"))?(?![\w/])")
_T_WORDS = re.compile(
    r"\b(?P<cmp>" + _W + r")\s+(?:an?\s+|the\s+)?(?P<num>" + _NUM + r")(?:\s*(?P<unit>" + _UNIT + r"))?(?![\w/])",
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
    r"(?P<unit3>mg/dL|mmol/L|mg/g|mg/mmol|mm\s?Hg|kg/m(?:2|\u00b2)|%)",
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


def _decimals(num: str) -> int:
    return len(num.split(".", 1)[1]) if "." in num else 0


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
    return u.replace("²", "2").replace("^2", "2")


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
        if column in ("SBP", "DBP") and "/" in value:
            name, column = "blood pressure", "BP"
        return name, column, lo + best[3]
    if unit == "mmHg":
        return ("blood pressure", "BP", start) if "/" in value else ("systolic blood pressure", "SBP", start)
    if unit == "percentile":
        return "BMI percentile", "BMI_percentile", start
    return "value", "value", start


def _extract_thresholds(text: str, idx: list[int]) -> list[Threshold]:
    found: list[tuple[int, int, str, str, str]] = []  # start, end, cmp, value, unit
    for m in _T_RANGE.finditer(text):
        lo = m.group("lo") or m.group("lo2") or m.group("lo3")
        hi = m.group("hi") or m.group("hi2") or m.group("hi3")
        unit = _norm_unit(m.group("unit") or m.group("unit2") or m.group("unit3")) or (
            "years" if re.match(r"age", m.group(0), re.I) else ""
        )
        if float(lo) < float(hi):
            found.append((m.start(), m.end(), "between", f"{lo}-{hi}", unit))
    for m in _T_SYMBOL.finditer(text):
        unit = m.group("unit")
        if not unit:  # "<7.0–7.5%": the unit follows the second number
            nxt = re.match(r"\s*(?:-|\u2013|\u2014|to)\s*\d+(?:\.\d+)?\s*(" + _UNIT + r")", text[m.end() :])
            unit = nxt.group(1) if nxt else None
        found.append((m.start(), m.end(), _CMP_SYMBOL[m.group("cmp")], m.group("num"), _norm_unit(unit)))
    for m in _T_WORDS.finditer(text):
        found.append((m.start(), m.end(), _CMP_WORDS[m.group("cmp").lower()], m.group("num"), _norm_unit(m.group("unit"))))
    for m in _T_SUFFIX.finditer(text):
        found.append((m.start(), m.end(), _CMP_SUFFIX[m.group("cmp").lower()], m.group("num"), _norm_unit(m.group("unit"))))
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    result: list[Threshold] = []
    last_end = -1
    used_columns: dict[str, int] = {}
    for start, end, cmp_, value, unit in found:
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
        after = re.match(
            r"\s*(reduction|decrease|increase|rise|decline|lowering|change)s?\s+(?:in|of)\s+", text[end:], re.I
        )
        before = re.search(
            r"\b(reduction|decrease|increase|rise|decline|lowering|change)s?\s+(?:in|of)\s+(?:the\s+)?[\w\s-]{0,30}$",
            text[max(0, start - 50) : start],
            re.I,
        )
        if after:
            # the measure named right after "reduction in"
            for pattern, m_name, m_col in _MEASURES:
                mm = pattern.match(text, end + after.end())
                if mm:
                    measure, column = f"{after.group(1).lower()} in {m_name}", f"{m_col}_{after.group(1).lower()}"
                    break
        elif before and measure != "value":
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


# --------------------------------------------------------------------------
# population parsing

_SPLIT_CONDITIONS = re.compile(r"\s*(?:,\s*(?:and|or)?\s*|;\s*|\s+and\s+|\s+plus\s+)\s*", re.I)
_POP_CLAUSES = re.compile(
    r"\s+(?=(?:with|without|who|whose|aged|age\s+\d|at\s+(?:high|low|increased|intermediate|elevated|very\s+high)|"
    r"receiving|taking|on|treated|undergoing|after|following|presenting|hospitali[sz]ed|"
    r"requiring|in\s+whom)\b)",
    re.I,
)


def _strip_article(s: str) -> str:
    return re.sub(r"^(?:an?|the)\s+", "", s.strip(" ,;."), flags=re.I)


def _parse_population(pop: str, thresholds: list[Threshold]):
    """Split a population phrase into its head, conditions ("with"), excluded
    conditions ("without") and other criteria ("who …", "aged …")."""
    marker = "\u00a7T\u00a7"
    for t in thresholds:
        if t.raw and t.raw in pop:
            pop = pop.replace(t.raw, marker)
    # a parenthetical holding a threshold is covered by the When step
    pop = re.sub(r"\s*\([^()]*" + marker + r"[^()]*\)", "", pop)
    pop = re.sub(r"\b(type\s+1)\s+(and|or)\s+(type\s+2)\b", lambda m: "\u2063".join(m.groups()), pop, flags=re.I)
    raw_parts = _POP_CLAUSES.split(pop.strip())
    parts: list[str] = []
    for part in raw_parts:
        # "who are at very high risk": keep a relative clause whole
        if parts and (
            re.search(r"\s(?:or|and)$", parts[-1])
            or re.match(r"^(?:who|whose|in\s+whom)\b", parts[-1], re.I)
            and not re.match(r"^(?:with|without|aged)\b", part, re.I)
        ):
            parts[-1] = parts[-1] + " " + part
        else:
            parts.append(part)
    head = parts[0].strip(" ,")
    conditions: list[str] = []
    excluded: list[str] = []
    criteria: list[str] = []
    for part in parts[1:]:
        part = part.strip(" ,;")
        low = part.lower()
        if low.startswith("without "):
            items = _SPLIT_CONDITIONS.split(part[len("without ") :])
            excluded.extend(_strip_article(i) for i in items if i.strip())
        elif low.startswith("with "):
            items = _SPLIT_CONDITIONS.split(part[len("with ") :])
            conditions.extend(_strip_article(i) for i in items if i.strip())
        else:
            criteria.append(part)
    if re.match(r"^(?:all|most|many)\s+", head, re.I):
        head = re.sub(r"^(?:all|most|many)\s+", "", head, flags=re.I)

    def has_threshold(s: str) -> bool:
        return marker in s

    head = _tidy(re.sub(r"\s*(?:aged|ages|between|of)?\s*" + marker + r"(?:\s+of\s+age)?", "", head))

    def restore(items: list[str]) -> list[str]:
        return [i.replace("\u2063", " ") for i in items if i and not has_threshold(i)]

    return _lower_first(head), restore(conditions), restore(excluded), restore(criteria)


# --------------------------------------------------------------------------
# action phrasing


_WS = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;.])")


def _tidy(s: str) -> str:
    s = _WS.sub(" ", s).strip(" ,;:.")
    return _SPACE_BEFORE_PUNCT.sub(r"\1", s)


def _lower_first(s: str) -> str:
    if len(s) > 1 and s[0].isupper() and not s[1].isupper() and not s[1].isdigit():
        return s[0].lower() + s[1:]
    return s


def _phrase_action(clause: str) -> tuple[str, str | None]:
    """Return (action phrase, population found as the subject or None)."""
    clause = _tidy(clause)
    m = _IT_IS.match(clause)
    if m:
        return _tidy(m.group("rest")), None
    m = _WE_RECOMMEND.match(clause)
    if m and re.match(r"^we\b", clause, re.I):
        rest = m.group("rest")
        subject = _CLINICIAN_SUBJECT.match(rest)
        if subject:
            rest = rest[subject.end() :].strip()
        return _phrase_action(rest)[0], None
    m = _IMPERATIVE.match(clause)
    if m:
        verb = m.group("verb").lower()
        rest = _tidy(m.group("rest"))
        if verb.startswith("do not"):
            return _tidy(verb[len("do not ") :] + " " + rest), None
        if verb == "avoid":
            return rest, None
        return f"{verb} {rest}", None
    m = _PASSIVE.match(clause)
    if m:
        subj = _tidy(m.group("subj"))
        part = m.group("part").lower()
        rest = _tidy(m.group("rest"))
        base = _VERB_BASE.get(part)
        if _SUBJECT_POP.match(subj + " should x") and re.match(_POP_WORDS + r"\b", subj, re.I):
            verb = base or part
            return _tidy(f"{verb} {rest}"), subj
        if base:
            return _tidy(f"{base} {_lower_first(subj)} {rest}"), None
        return _tidy(f"{_lower_first(subj)} {part} {rest}"), None
    m = _ACTIVE.match(clause)
    if m:
        subj = _tidy(m.group("subj"))
        rest = _tidy(m.group("rest"))
        if _CLINICIAN_SUBJECT.match(subj):
            return rest, None
        if re.match(_POP_WORDS + r"\b", subj, re.I):
            return rest, subj
        return _tidy(f"{_lower_first(subj)} to {rest}"), None
    m = _PREFERRED.match(clause)
    if m:
        return _tidy(f"{_lower_first(m.group('subj'))} as {m.group('tail')}"), None
    m = _ADJ.match(clause)
    if m:
        subj = _tidy(m.group("subj"))
        rest = re.sub(
            r"^\s*(?:and|but)\s+(?:is|are)\s+(?:not\s+)?(?:\w+ly\s+)?\w+\b", "", m.group("rest"), flags=re.I
        )
        return _tidy(f"{_lower_first(subj)} {_tidy(rest)}"), None
    return _lower_first(clause), None


# --------------------------------------------------------------------------
# specialty inference

SPECIALTY_KEYWORDS: list[tuple[str, re.Pattern]] = [
    ("diabetes", re.compile(r"\bdiabet|\bA1C\b|\bHbA1c\b|\binsulin|\bglucose|\bmetformin|\bSGLT2|\bGLP-1|\bhypoglyc", re.I)),
    ("hypertension", re.compile(r"\bhypertens|\bblood pressure|\bBP\b|\bantihypertensive|mm ?Hg", re.I)),
    ("lipids", re.compile(r"\bLDL|\bcholesterol|\bstatin|\blipid|\btriglycerid|\bezetimibe|\bPCSK9", re.I)),
    ("cardiology", re.compile(r"\bheart failure|\batrial fibrillation|\bcoronary|\bmyocardial|\banticoagul|\bLVEF|\bejection fraction|\bcardiac", re.I)),
    ("nephrology", re.compile(r"\bCKD\b|\beGFR|\bkidney|\balbuminuria|\bUACR|\bdialysis|\brenal", re.I)),
    ("pediatrics", re.compile(r"\bchild|\badolescen|\bpediatric|\binfant|\bpercentile|\byouth", re.I)),
    ("pulmonology", re.compile(r"\basthma|\bCOPD\b|\binhaler|\bspirometr", re.I)),
    ("obstetrics", re.compile(r"\bpregnan|\bgestational|\bpostpartum|\bpreeclampsia", re.I)),
]


SPECIALTY_SAMPLE_CHARS = 20_000


def infer_specialty(text: str) -> str:
    """The specialty whose keywords occur most often in the first 20,000 characters."""
    text = text[:SPECIALTY_SAMPLE_CHARS]
    scores = [(len(p.findall(text)), -i, name) for i, (name, p) in enumerate(SPECIALTY_KEYWORDS)]
    best = max(scores)
    return best[2] if best[0] > 0 else "general"


# --------------------------------------------------------------------------
# main entry point


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise GenerationTimeout()


_STRENGTH_WORD = re.compile(r"\b(strong|weak|conditional|moderate)\s+recommendation\b", re.I)
_QUALITY = re.compile(r"\b(high|moderate|low|very\s+low)[- ](?:quality|certainty)\s+(?:of\s+)?evidence\b", re.I)
_REC_PREFIX = re.compile(r"^(?:Recommendation|Rec\.?|Statement|Key\s+recommendation)\s*\d*(?:\.\d+)*\s*[:.)\-\u2013]\s*", re.I)
_UNIT_TRAILING_PAREN = re.compile(r"\s*\(([^()]{1,120})\)\s*\.?\s*$")


def _parse_parenthetical(text: str) -> tuple[str, dict]:
    found: dict = {}

    def repl(m: re.Match) -> str:
        inner = m.group(1)
        cor, loe, grade = _COR.search(inner), _LOE.search(inner), _GRADE.search(inner)
        word = _STRENGTH_WORD.search(inner)
        quality = _QUALITY.search(inner)
        if word or quality:
            if word:
                found.setdefault("strength_word", word.group(1).lower())
            if quality:
                found.setdefault("quality", quality.group(1).lower().replace(" ", "-"))
            if not (cor or loe or grade):
                return ""
        if not (cor or loe or grade):
            if re.fullmatch(r"\s*[ABCE]\s*", inner):
                found.setdefault("grade", inner.strip())
                return ""
            return m.group(0)
        if cor:
            found.setdefault("cor", _norm_cor(cor.group(1)))
            if cor.group(2):
                found.setdefault("cor_qualifier", cor.group(2).title())
        if loe:
            found.setdefault("loe", loe.group(1).upper().replace("-NR", "-NR"))
        if grade:
            found.setdefault("grade", grade.group(1).upper())
        return ""

    cleaned = _PAREN.sub(repl, text)
    # unparenthesised trailing "Class I, LOE A"
    tail = re.search(
        r"[\s.;,]*\b(?:Class|COR)\s*[:=]?\s*(III|IIa|IIb|I|3|2a|2b|1)\b[^.]*?"
        r"(?:LOE|Level\s+of\s+Evidence)\s*[:=]?\s*([ABC](?:-(?:R|NR|LD|EO))?)\W*$",
        cleaned,
        re.I,
    )
    if tail:
        found.setdefault("cor", _norm_cor(tail.group(1)))
        found.setdefault("loe", tail.group(2).upper())
        cleaned = cleaned[: tail.start()]
    return cleaned, found


def _threshold_logic(sentence: str, thresholds: list[Threshold]) -> str:
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
            return "any"
    return "all"


def extract(content: str, deadline: float | None = None) -> list[Recommendation]:
    recs: list[Recommendation] = []
    for unit in _segment(content):
        _check_deadline(deadline)
        raw = content[unit.start : unit.end]
        text, idx = _clean(raw, unit.start)
        if not text:
            continue
        prefix = _REC_PREFIX.match(text)
        if prefix:
            text, idx = text[prefix.end() :], idx[prefix.end() :]
        unit_strength: dict = {}
        tail = _UNIT_TRAILING_PAREN.search(text)
        if tail and (text[: tail.start()].rstrip().endswith((".", "!", ";"))):
            _, unit_strength = _parse_parenthetical(text[tail.start() :])
            if unit_strength:
                text, idx = text[: tail.start()].rstrip(), idx[: tail.start()]
                idx = idx[: len(text)]
        unit_grade = unit_strength.get("grade")
        g = _ADA_TRAILING_GRADE.search(text)
        if g and len(text) > 20:
            unit_grade = g.group(1)
            text, idx = text[: g.start()].rstrip(), idx[: g.start()]
            text = text.rstrip()
            idx = idx[: len(text)]
        cell_cor = cell_loe = None
        for cell in unit.strength_cells:
            if _CELL_COR.match(cell) and cell_cor is None:
                cell_cor = _norm_cor(_CELL_COR.match(cell).group(1))
            elif _CELL_LOE.match(cell) and cell_loe is None:
                cell_loe = cell.upper()
        for s_start, s_end in _sentences(text):
            sentence = text[s_start:s_end].strip()
            lead = len(text[s_start:s_end]) - len(text[s_start:s_end].lstrip())
            s_start += lead
            s_end = s_start + len(sentence)
            body, strength = _parse_parenthetical(sentence)
            body = _tidy(body)
            if len(body.split()) < 4 or body.endswith("?"):
                continue
            if not _CUE.search(body):
                continue
            negated = bool(_NEGATION.search(body))
            for key, value in unit_strength.items():
                strength.setdefault(key, value)
            cor = strength.get("cor") or cell_cor
            loe = strength.get("loe") or cell_loe
            grade = strength.get("grade") or unit_grade
            if not loe and strength.get("quality"):
                loe = f"{strength['quality']}-quality"
            if cor == "III":
                negated = True
            s_idx = idx[s_start:s_end]
            thresholds = _extract_thresholds(sentence, s_idx)
            logic = _threshold_logic(sentence, thresholds)

            # population: leading "In adults with …," / trailing "… in adults with …"
            population = None
            clause = body
            m = _LEADING_POP.match(body)
            if m:
                cue = _CUE.search(body)
                # the population clause ends at the last comma before the cue
                comma = body.rfind(",", 0, cue.start()) if cue and cue.start() > m.start("rest") else -1
                if comma > 0:
                    pop_text = body[m.start("pop") : comma]
                    clause = body[comma + 1 :]
                else:
                    pop_text, clause = m.group("pop"), m.group("rest")
                population = pop_text
            action, subject_pop = _phrase_action(clause)
            if subject_pop and not population:
                population = subject_pop
            if not population:
                t = _TRAILING_POP.search(action)
                if t and not re.search(r"\b(?:or|and)$", action[: t.start()].strip()):
                    pop_text = t.group("pop")
                    tail = re.search(
                        r"\s+(?:because|since|due\s+to|given\s+that|at\s+(?:the|each|every|initial|diagnosis)|"
                        r"during|before|prior\s+to|once|annually|if|when|unless)\b.*$",
                        pop_text,
                        re.I,
                    )
                    kept = action[: t.start()]
                    if tail:
                        kept = kept + " " + tail.group(0).strip()
                        pop_text = pop_text[: tail.start()]
                    population = pop_text
                    action = _tidy(kept)
            head = None
            conditions: list[str] = []
            excluded: list[str] = []
            criteria: list[str] = []
            if population:
                head, conditions, excluded, criteria = _parse_population(_tidy(population), thresholds)
            if not action:
                action = _lower_first(body)
            if cor:
                strength_label = f"Class {cor}" + (
                    f": {strength['cor_qualifier']}" if strength.get("cor_qualifier") else ""
                )
            elif grade:
                strength_label = f"Grade {grade}"
            elif strength.get("strength_word"):
                strength_label = f"{strength['strength_word'].capitalize()} recommendation"
            else:
                strength_label = None
            recs.append(
                Recommendation(
                    id=f"REC-{len(recs) + 1:03d}",
                    text=body,
                    section=unit.section,
                    strength=strength_label,
                    class_of_recommendation=cor,
                    level_of_evidence=loe,
                    grade=grade,
                    population=head,
                    conditions=conditions,
                    excluded_conditions=excluded,
                    criteria=criteria,
                    action=action,
                    negated=negated,
                    thresholds=thresholds,
                    threshold_logic=logic,
                    span=(s_idx[0], s_idx[-1] + 1),
                )
            )
    return recs
