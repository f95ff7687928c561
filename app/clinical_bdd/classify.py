"""Classify stage: sentences, recommendation cues, negation and strength/grade."""
from __future__ import annotations

import re

# --------------------------------------------------------------------------
# sentences

_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|vs|etc|approx|Dr|Drs|No|Fig|al|min|max|Ref|cf|St|Jr|Sr|mg|dL)\.|\b[A-Z]\.)$"
)
_SENT_END = re.compile(r"[.!?](?=\s+[\"'(\[]?[A-Z0-9\u2265\u2264<>])")


def sentences(text: str) -> list[tuple[int, int]]:
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

# ADA "… risk. A"; USPSTF's D and I grades only on formal statements
_ADA_TRAILING_GRADE = re.compile(r"(?:(?<=[.)\]])|(?<=[.)\]]\s))\s*\(?\b([ABCE])\b\)?\s*$")
_FORMAL_TRAILING_GRADE = re.compile(r"(?:(?<=[.)\]])|(?<=[.)\]]\s))\s*\(?\b([A-E]|I)\b\)?\s*$")
_PAREN = re.compile(r"\s*[(\[]([^()\[\]]{1,120})[)\]]")
_COR = re.compile(
    r"\b(?:Class(?:\s+of\s+Recommendation)?|COR)\s*[:=]?\s*(III|IIa|IIb|II|I|3|2a|2b|1)\b"
    r"(?:\s*[:\-\u2013]\s*(No Benefit|Harm))?",
    re.I,
)
_LOE = re.compile(
    r"\b(?:LOE|Level\s+of\s+Evidence|Level)\s*[:=]?\s*([ABC](?:-(?:R|NR|LD|EO))?)\b", re.I
)
_GRADE = re.compile(r"\b(?:Grade|Evidence\s+grade)\s*[:=]?\s*([12][A-D]|[A-E])\b", re.I)
# a bracket holding only a grade: ADA "(A)", KDIGO "(1B)", USPSTF "(B recommendation)"
_BARE_GRADE = re.compile(r"\s*(?:([ABCE])|([12])\s*([A-D])|([A-DI])\s+(?:recommendation|statement))\s*", re.I)
# CDC: "(recommendation category: A; evidence type: 3)", "(Recommendation category, A; evidence type, 4)"
_CATEGORY = re.compile(
    r"\brecommendation\s+category\s*[:,]?\s*([A-D])\b(?:[^()]*?\bevidence\s+type\s*[:,]?\s*(\d))?", re.I
)
# VA/DoD strength (and category) ending a table row: "… progression. Strong for Reviewed, New-added"
_VA_STRENGTH = re.compile(
    r"(?<=[.)\]])\s*\b(Strong|Weak)\s+(for|against)\b"
    r"(?:\s+(?:Reviewed|Not\s+reviewed|New|Amended|Deleted|Not\s+changed)[\w ,\-]*)?\s*$",
    re.I,
)
_STRENGTH_CELL = re.compile(r"^(Strong|Weak|Conditional)(?:\s+(for|against))?$", re.I)
# quality and strength columns glued to the statement: "… dosing.HighStrong"
_GLUED_QUALITY_STRENGTH = re.compile(r"(?<=[.)\]])\s*(High|Moderate|Low|Very\s+low)\s*(Strong|Weak|Conditional)\s*$")
# NICE's year of the evidence review: "[2015]", "[2015, amended 2022]"
_YEAR_TAG = re.compile(r"\s*\[(?:new\s+)?\d{4}(?:,\s*(?:amended|updated)\s+\d{4})?\]\s*\.?\s*$", re.I)
# a grade bracket followed only by a practice note: "… (1A); continue even if …"
_MID_GRADE = re.compile(r"[(\[](?:[12]\s*[A-D]|[A-E])[)\]]\s*;")
# KDIGO's strength and quality as words: "(Level 1, C)", "(Level 2, D)"
_KDIGO_LEVEL = re.compile(r"\s*Level\s+([12])\s*[,;]\s*([A-D])\s*", re.I)
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

CUE = re.compile(
    r"\b(?:should|shall|must)\b"
    r"|\b(?:is|are)\s+(?:(?:strongly|generally|also|routinely|usually|not|no\s+longer)\s+){0,2}"
    r"(?:recommended|indicated|suggested|preferred|advised|reasonable|beneficial|appropriate|"
    r"useful|contraindicated|harmful|warranted|encouraged)\b"
    r"|\b(?:may|might|can|could)\s+be\s+(?:considered|reasonable|useful|beneficial|appropriate)\b"
    r"|\b(?:is|are)\s+(?:the\s+|a\s+)?(?:preferred|first-line|treatment\s+of\s+choice)\b"
    r"|\bwe\s+(?:recommend|suggest)\b|\brecommend(?:s|ed)?\s+(?:that|against)\b"
    # an organisation's recommendation: "WHO recommends initiation …", "ACP suggests …"
    r"|^(?:the\s+)?(?-i:[A-Z]{2,8})\s+(?:strongly\s+)?(?:recommends|suggests)\b"
    r"|^(?:consider|avoid|do\s+not|use|initiate|start|screen|measure|prescribe|offer|refer|assess|"
    r"evaluate|monitor|obtain|check|perform|educate|counsel|encourage|provide|individualize|treat|"
    r"test|discontinue|continue|administer|review)\b",
    re.I,
)
_VERBS = (
    r"consider|avoid|do\s+not|use|initiate|start|screen|measure|prescribe|offer|refer|assess|"
    r"evaluate|monitor|obtain|check|perform|educate|counsel|encourage|provide|individualize|treat|"
    r"test|discontinue|continue|administer|review|add|adopt|ensure|reassess|palpate|standardi[sz]e|"
    r"explain|discuss|ask|inform|take\s+into\s+account|think\s+about|tell|advise|arrange|agree|involve|record"
)
# an imperative statement: "Offer …", also after a leading clause ("If …, consider …")
IMPERATIVE_HEAD = re.compile(r"^(?:" + _VERBS + r")\b", re.I)
LEADING_CLAUSE_IMPERATIVE = re.compile(
    r"^(?:If|When|Whenever|Before|After|Once|Because|Since|While|In|For)\b[^,]{3,200},\s*(?:" + _VERBS + r")\b", re.I
)


_STRENGTH_WORD = re.compile(r"\b(strong|weak|conditional|moderate)\s+recommendation\b", re.I)
_QUALITY = re.compile(r"\b(high|moderate|low|very\s+low)[- ](?:quality|certainty)\s+(?:of\s+)?evidence\b", re.I)
_REC_PREFIX = re.compile(r"^(?:Recommendation|Rec\.?|Statement|Key\s+recommendation)\s*\d*(?:\.\d+)*\s*[:.)\-\u2013]\s*", re.I)
_UNIT_TRAILING_PAREN = re.compile(r"\s*[(\[]([^()\[\]]{1,120})[)\]]\s*\.?\s*$")


def parse_parenthetical(text: str) -> tuple[str, dict]:
    found: dict = {}

    def repl(m: re.Match) -> str:
        inner = m.group(1)
        category = _CATEGORY.search(inner)
        if category:
            found.setdefault("grade", category.group(1).upper())
            if category.group(2):
                found.setdefault("loe", f"type {category.group(2)}")
            found.setdefault(
                "strength_label",
                f"Category {category.group(1).upper()}" + (f", evidence type {category.group(2)}" if category.group(2) else ""),
            )
            return ""
        level = _KDIGO_LEVEL.fullmatch(inner)
        if level:  # KDIGO "(Level 1, C)": strength 1, quality C -> grade "1C"
            found.setdefault("grade", level.group(1) + level.group(2).upper())
            return ""
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
            bare = _BARE_GRADE.fullmatch(inner)
            glued = m.group(0)[:1] in "([" and m.start() > 0 and m.string[m.start() - 1].isalnum()
            marker = re.fullmatch(r"\s*[a-e]\s*", inner)  # "(a) …, (b) …": list items, not grades
            if bare and not glued and not marker:  # "lipoprotein(a)" is a name, not grade A
                found.setdefault("grade", "".join(g for g in bare.groups() if g).upper())
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
    tail = _trailing_cor_loe(cleaned)
    if tail:
        start, cor_value, loe_value = tail
        found.setdefault("cor", _norm_cor(cor_value))
        found.setdefault("loe", loe_value.upper())
        cleaned = cleaned[:start]
    return cleaned, found


_TAIL_COR = re.compile(r"\b(?:Class|COR)\s*(?:[:=]\s*)?(III|IIa|IIb|I|3|2a|2b|1)\b", re.I)
_TAIL_LOE_VALUE = re.compile(r"[ABC](?:-(?:R|NR|LD|EO))?", re.I)
_TAIL_LOE_WORDS = re.compile(r"level\s+of\s+evidence", re.I)


def _trailing_cor_loe(text: str) -> tuple[int, str, str] | None:
    r"""(start, class, level) of a trailing "Class I, LOE A", as the search
    r"[\s.;,]*\b(?:Class|COR)\s*[:=]?\s*(…)\b[^.]*?(?:LOE|Level\s+of\s+Evidence)\s*[:=]?\s*([ABC]…)\W*$"
    found it, in linear time: that search tried every start (quadratic for ". . . ."
    or "Class I Class I …"); here the level is read back from the end, then the
    first class after the last full stop before it."""
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] == "_"):
        end -= 1  # \W*$
    value_start = -1
    for width in (4, 3, 1):
        if end - width >= 0 and _TAIL_LOE_VALUE.fullmatch(text, end - width, end):
            value_start = end - width
            break
    if value_start < 0:
        return None
    j = value_start
    while j and text[j - 1].isspace():
        j -= 1
    if j and text[j - 1] in ":=":
        j -= 1
        while j and text[j - 1].isspace():
            j -= 1
    if text[max(0, j - 3) : j].lower() == "loe":
        loe_start = j - 3
    elif text[max(0, j - 8) : j].lower() == "evidence":
        k = j - 8
        # "Level of Evidence": read back over "of" and the spaces
        words = text[max(0, k - 40) : j]
        m = _TAIL_LOE_WORDS.search(words)
        while m and m.end() != len(words):
            m = _TAIL_LOE_WORDS.search(words, m.start() + 1)
        if not m:
            return None
        loe_start = max(0, k - 40) + m.start()
    else:
        return None
    last_stop = text.rfind(".", 0, loe_start)
    cor = _TAIL_COR.search(text, last_stop + 1)
    if not cor or cor.end() > loe_start:
        return None
    start = cor.start()
    while start and (text[start - 1].isspace() or text[start - 1] in ".;,"):
        start -= 1
    return start, cor.group(1), text[value_start:end]



# --------------------------------------------------------------------------
# strength of a whole unit (segment boundaries, table cells, trailing grade)

_END_BRACKET = re.compile(
    r"[(\[](?:[^()\[\]]*\b(?:LOE|Level\s+of\s+Evidence|Level\s+[12]\s*[,;]\s*[A-D]|COR|Class|Grade|recommendation\s+category)\b[^()\[\]]*"
    r"|\s*[12]\s*[A-D]\s*|\s*[A-DI]\s+(?:recommendation|statement)\s*)[)\]]\s*\.?\s*$",
    re.I,
)


def ends_with_strength(text: str) -> bool:
    """True when a statement ends in its grade, class/LOE or strength ("… risk. A",
    "(1B).", "(recommendation category: A; …)", "Strong for", "HighStrong"), or
    its grade bracket is followed only by a note ("(1A); continue …")."""
    text = _YEAR_TAG.sub("", text.rstrip())
    return bool(_FORMAL_TRAILING_GRADE.search(text)) or explicit_strength(text)


def explicit_strength(text: str) -> bool:
    """A named strength, not a bare trailing letter."""
    text = _YEAR_TAG.sub("", text.rstrip())
    return bool(
        _END_BRACKET.search(text)
        or _VA_STRENGTH.search(text)
        or _GLUED_QUALITY_STRENGTH.search(text)
        or _MID_GRADE.search(text)
    )


def strength_cell(cell: str) -> bool:
    """A table cell holding a strength ("Strong for", "Weak against", "Strong")."""
    return bool(_STRENGTH_CELL.match(cell.strip()))


def has_cor_and_loe(cells: list[str]) -> bool:
    return any(_CELL_COR.match(c) for c in cells) and any(_CELL_LOE.match(c) for c in cells)


def strip_label(text: str, idx: list[int]) -> tuple[str, list[int]]:
    """Drop a leading "Recommendation:" / "Statement 3." label."""
    prefix = _REC_PREFIX.match(text)
    return (text[prefix.end() :], idx[prefix.end() :]) if prefix else (text, idx)


def unit_strength(text: str, idx: list[int], cells: list[str], formal: bool) -> tuple[str, list[int], dict]:
    """Strength stated once for the whole unit: a trailing bracket, a trailing
    grade letter, or COR/LOE cells. Returns the text without it."""
    found: dict = {}
    year = _YEAR_TAG.search(text)
    if year:
        text, idx = text[: year.start()].rstrip(), idx[: len(text[: year.start()].rstrip())]
    va = _VA_STRENGTH.search(text)
    if va:
        found["strength_label"] = f"{va.group(1).capitalize()} {va.group(2).lower()}"
        text = text[: va.start()].rstrip()
        idx = idx[: len(text)]
    glued = _GLUED_QUALITY_STRENGTH.search(text)
    if glued:
        found["strength_word"] = glued.group(2).lower()
        found["quality"] = glued.group(1).lower().replace(" ", "-")
        text = text[: glued.start()].rstrip()
        idx = idx[: len(text)]
    tail = _UNIT_TRAILING_PAREN.search(text)
    if tail and tail.group(0)[:1] in "([" and tail.start() > 0 and text[tail.start() - 1].isalnum():
        tail = None  # "… lipoprotein(a)": part of a name
    if tail and (formal or text[: tail.start()].rstrip().endswith((".", "!", ";"))):
        _, found = parse_parenthetical(text[tail.start() :])
        if found:
            text = text[: tail.start()].rstrip()
            idx = idx[: len(text)]
    g = (_FORMAL_TRAILING_GRADE if formal else _ADA_TRAILING_GRADE).search(text)
    if g and len(text) > 20:
        found["grade"] = g.group(1)
        text = text[: g.start()].rstrip()
        idx = idx[: len(text)]
    for cell in cells:
        labelled = LABELLED_STRENGTH.match(cell.strip())
        if labelled:
            key = labelled.group("key").lower()
            value = labelled.group("value").strip()
            if key.startswith(("evidence type", "level", "loe", "quality")):
                found.setdefault("loe", f"type {value}" if key.startswith("evidence type") else value)
            elif re.fullmatch(r"[A-E]|I|[12][A-D]", value, re.I) and not key.startswith("rating"):
                found.setdefault("grade", value.upper())
            else:
                found.setdefault("strength_label", value[:1].upper() + value[1:])
            continue
        line = STRENGTH_LINE.match(cell.strip())
        if line:
            found.setdefault("strength_word", line.group("word").lower())
            quality = _QUALITY.search(cell)
            if quality:
                found.setdefault("quality", quality.group(1).lower().replace(" ", "-"))
            continue
        word = _STRENGTH_WORD.match(cell.strip())
        if word and word.group(1).lower() != "moderate":
            # "weak recommendation based on moderate-quality evidence" (a key point's own sentence)
            found.setdefault("strength_word", word.group(1).lower())
            quality = _QUALITY.search(cell)
            if quality:
                found.setdefault("quality", quality.group(1).lower().replace(" ", "-"))
            continue
        strength = _STRENGTH_CELL.match(cell.strip())
        if strength:
            found.setdefault("strength_label", " ".join(w for w in strength.groups() if w).capitalize())
            continue
        cor, loe = _CELL_COR.match(cell), _CELL_LOE.match(cell)
        if cor:
            found.setdefault("cell_cor", _norm_cor(cor.group(1)))
        elif loe:
            found.setdefault("cell_loe", cell.upper())
    return text, idx, found



# --------------------------------------------------------------------------
# insufficient evidence: neither for nor against (USPSTF I statements, "no recommendation")

INSUFFICIENT = re.compile(
    r"\b(?:the\s+)?(?:current\s+)?evidence\s+(?:is|was|remains)\s+(?:currently\s+)?(?:insufficient|inadequate|lacking)\b"
    r"|\binsufficient\s+evidence\s+(?:to|for)\b|\bI\s+statement\b"
    r"|\bno\s+recommendation\s+(?:can\s+be\s+made|is\s+made|for\s+or\s+against)\b|^no\s+recommendation\b"
    r"|\b(?:cannot|can\s+not|unable\s+to|does\s+not)\s+(?:make\s+a\s+)?recommend(?:ation)?\s+for\s+or\s+against\b",
    re.I,
)
# what the evidence is insufficient about: "… to assess the balance of benefits and harms of initiating X in Y"
BALANCE_OF = re.compile(
    r"\b(?:insufficient|inadequate|lacking)\s+to\s+(?:assess|determine|weigh|evaluate|judge)\s+(?:the\s+)?"
    r"(?:balance\s+of\s+(?:the\s+)?)?(?:(?:potential\s+)?benefits\s+and\s+harms|harms\s+and\s+benefits)\s+"
    r"(?:of\s+|for\s+)?(?P<what>\S.*)$",
    re.I,
)


def year_tagged(text: str) -> bool:
    """A NICE statement: it ends with the year of its evidence review ("[2004]",
    "[2015, amended 2019]"), which NICE prints after recommendations only."""
    return bool(_YEAR_TAG.search(text.rstrip()))


# a strength on the line after its statement (WHO): "Strong recommendation, moderate- to high-certainty evidence"
STRENGTH_LINE = re.compile(
    r"^(?P<word>Strong|Weak|Conditional)\s+recommendation(?:\s*[,;:]\s*[\w\s-]{0,60}?(?:quality|certainty)\s+(?:of\s+)?evidence)?\s*\.?$",
    re.I,
)
# a strength bracket that opens a sentence belongs to the sentence before it:
# "… is considered. (Grade: weak recommendation; moderate-quality evidence.) ACP recommends …"
LEADING_STRENGTH_BRACKET = re.compile(r"^\s*[(\[][^()\[\]]{1,120}[)\]]\.?")

# a labelled strength on the line after its statement: "Rating: Consensus",
# "Recommendation Category: A", "Evidence Type: 4", "Grade: B"
LABELLED_STRENGTH = re.compile(
    r"^(?P<key>Rating|Grade|Strength(?:\s+of\s+recommendation)?|Recommendation\s+(?:category|grade|strength)|"
    r"Evidence\s+type|Level\s+of\s+evidence|LOE|Quality\s+of\s+evidence)\s*:\s*(?P<value>[A-Za-z0-9][\w +-]{0,39})$",
    re.I,
)
