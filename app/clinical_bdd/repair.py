"""Repairs after the clean stage, for what PDF and HTML extraction do to
statements: HTML tables and tags, negations glued to their verb ("isnot"),
symbol-font signs ("$300 mg/dL" for ≥300), grades glued to the next word or to
the next statement's number (". BTherapeutic", "). E9.24 In"), download
footers, words split at a line-end hyphen or a ligature ("consid- ered",
"bene fits"). Every rewrite keeps, for each character, its offset in the
original content (see clean.Cleaned).
"""
from __future__ import annotations

import html
import re
from functools import partial

from .clean import Cleaned, _rewrite, _segmenter, _vocabulary

# --------------------------------------------------------------------------
# HTML: table rows become "| cell | cell |" lines, the segment stage reads them
# as it reads Markdown tables; other tags go, entities are decoded

_LOOKS_HTML = re.compile(r"<(?:table|tr|td|p|div|h[1-6]|li|ul|br)\b", re.I)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>|&(?:#\d{1,6}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "br", "table", "thead", "tbody", "section", "article"}


def _html_repl(m: re.Match, index: list[int]):
    at = index[m.start()]
    if m.group(0).startswith("&"):
        ch = html.unescape(m.group(0))
        return ch, [at] * len(ch)
    closing, name = m.group(1) == "/", m.group(2).lower()
    if name == "tr":
        new = "" if closing else "\n|"
    elif name in ("td", "th"):
        new = " |" if closing else " "
    elif re.fullmatch(r"h[1-6]", name):
        new = "\n" if closing else "\n\n## "
    elif name in _BLOCK_TAGS:
        new = "\n"
    else:
        new = ""
    return new, [at] * len(new)


# --------------------------------------------------------------------------
# glued negation, symbol-font signs, download footers

_GLUED_NOT = re.compile(
    r"\b(is|are|was|were|should|must|do|does|did|could|may|might|would|will|has|have|had|need)(not)\b"
    r"|\b(not)(recommended|indicated|advised|suggested|offered|used|be|routinely|start|offer|use)\b",
    re.I,
)
# ADA's PDFs set ≥ and ≤ in a symbol font that text extraction reads as "$" and "#"
_SYMBOL_SIGN = re.compile(
    r"(?<![\w$#])([$#])\s?(?=\d+(?:\.\d+)?\s*(?:%|mg/d[Ll]|mmol|mL/min|ml/min|mg/g|mg/mmol|kg/m|mm\s?Hg|years?\b))"
)
_FOOTER_LINE = re.compile(
    r"^[ \t]*Downloaded\s+from\s+\S+.*?\b(?:on|at)\s+\d{1,2}\s+[A-Z][a-z]+\s+\d{4}[ \t]*(?:\n|$)", re.M
)


def _split_not(m: re.Match, index: list[int]):
    first, second = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    cut = m.start() + len(first)
    return first + " " + second, index[m.start() : cut] + [index[cut]] + index[cut : m.end()]


def _sign(m: re.Match, index: list[int]):
    new = "\u2265" if m.group(1) == "$" else "\u2264"
    return new, [index[m.start(1)]]


# --------------------------------------------------------------------------
# a grade glued to what follows it: the next statement's number, a heading, a
# table cell. A line break after the grade lets the segment stage end the
# statement there.

_GLUED_GRADE = re.compile(
    r"(?<=[.)\]])\s?([A-E])(?=\d{1,3}\.\d{1,3}[a-z]?\s*[A-Z(]|[A-Z][a-z]{3,}|m[Ll]/|mmol|mg/)"
    r"|(?<=[.)\]]\s)([A-E])[ \t]+(?=\d{1,3}\.\d{1,3}[a-z]?\s*[A-Z(])"
)


def _break_after_grade(m: re.Match, index: list[int]):
    grade = m.group(1) or m.group(2)
    start = m.start(1) if m.group(1) else m.start(2)
    lead = m.group(0)[: start - m.start()]
    offsets = index[m.start() : start + 1]
    return lead + grade + "\n", offsets + [index[min(start + 1, len(index) - 1)]]


# --------------------------------------------------------------------------
# words split by a flattened line-end hyphen or a ligature, joined when the
# joined word is English (or the document's) and a part alone is not a word

_SPLIT_HYPHEN = re.compile(r"\b([A-Za-z]{2,})- ([a-z]{2,})\b")
_SPLIT_LIGATURE = re.compile(r"\b([A-Za-z]{1,12}) ((?:ffi|ffl|ff|fi|fl)[a-z]{1,12})\b")


def _known(word: str, plain: set[str], words) -> bool:
    w = word.lower()
    return w in plain or w in words


def _join(m: re.Match, index: list[int], plain: set[str], words: dict[str, int], hyphen: bool):
    first, second = m.group(1), m.group(2)
    if second.lower() in ("and", "or", "to", "nor", "but", "as"):
        return None
    joined = first + second
    offsets = index[m.start(1) : m.end(1)] + index[m.start(2) : m.end(2)]
    if not _known(joined, plain, words):
        if not hyphen:
            return None
        if _known(first, plain, words) or _known(second, plain, words):
            # a compound split at its own hyphen: "non- insulin" -> "non-insulin"
            return f"{first}-{second}", offsets[: len(first)] + [index[m.start() + len(first)]] + offsets[len(first) :]
        return joined, offsets  # "sulfo- nylureas": neither part is a word
    if not hyphen and words.get(second.lower(), 0) and words.get(first.lower(), 0) >= words.get(joined.lower(), 0):
        return None  # two words, more common apart than together
    return joined, offsets


_FUNCTION_WORDS = frozenset("a an the of to in on at by for with and or is are be as it its their this that".split())


def _candidates(pattern: re.Pattern, text: str, plain: set[str]) -> bool:
    """Any split the document's own words cannot explain (only then is the
    English word list needed): "the first" is two words, "bene fits" is not."""
    return any(
        (m.group(1) + m.group(2)).lower() not in plain and m.group(1).lower() not in _FUNCTION_WORDS
        for m in pattern.finditer(text)
    )


# ACC/AHA COR and LOE on a line of their own above the numbered statement
# ("1 A" / "1. In adults …"): one line, as the table reads ("1 A 1. In adults …");
# alone, the same "1 A" on several pages would be taken for a running header
_COR_LOE_ABOVE = re.compile(
    r"(?m)^[ \t]*((?:1|2a|2b|3|I|IIa|IIb|III)[ \t]+(?:A|B-R|B-NR|C-LD|C-EO|B|C))[ \t]*\r?\n(?=[ \t]*\d{1,2}\.[ \t]+\S)"
)


def _join_cor_loe(m: re.Match, index: list[int]):
    cells = m.group(1)
    return cells + " ", index[m.start(1) : m.end(1)] + [index[m.end(1)]]


# ESC-style tables: "Recommendations | Class | Level" columns glued to the end of
# each row ("… is recommended for adults. I C"); alone at the end of the line the
# class and level were read as the start of the next row. Bracketed they grade
# their own row: "… for adults. (Class I, LOE C)".
_CLASS_LEVEL_HEADER = re.compile(r"(?im)^[ \t]*Recommendations?[ \t]+Class\w?[ \t]+Level\w?[ \t]*$")
_COR_LOE_AT_LINE_END = re.compile(
    r"(?m)(?<=[.)\]])[ \t]+(?P<cor>I|IIa|IIb|III)[ \t]+(?P<loe>A|B|C)[ \t]*$"
)


def _bracket_cor_loe(m: re.Match, index: list[int]):
    new = f" (Class {m.group('cor')}, LOE {m.group('loe')})"
    at = index[m.start("cor")]
    return new, [at] * len(new)


# a table flattened one cell per paragraph (each cell between blank lines):
# the item number alone, the statement and its lettered list, then the grade
# alone ("1" / "We recommend … :" / "a) …" / "b) …" / "1A"). Alone, neither the
# number nor the grade is attached to the statement; joined, the item reads
# "1. We recommend … : a) … b) … (1A)" as a numbered statement with its grade.
_CELL_BREAK = r"[ \t]*\r?\n(?:[ \t]*\r?\n)+[ \t]*"
_LONE_NUMBER_ITEM = re.compile(
    r"(?m)^[ \t]*(?P<num>\d{1,2})" + _CELL_BREAK + r"(?P<body>(?-i:[A-Z])"
    r"(?:(?!\n[ \t]*(?:\d{1,2}|[12][A-D])[ \t]*\r?\n)[^\n]|\n(?![ \t]*(?:\d{1,2}|[12][A-D])[ \t]*(?:\r?\n|$))){10,3000}?)"
    + _CELL_BREAK + r"(?P<grade>[12][A-D])[ \t]*$"
)
_PARAGRAPH_BREAK = re.compile(r"[ \t]*\r?\n(?:[ \t]*\r?\n)*[ \t]*")


def _join_lone_item(m: re.Match, index: list[int]):
    out, offsets = [m.group("num"), ". "], index[m.start("num") : m.end("num")] + [index[m.end("num")]] * 2
    pos = m.start("body")
    for br in _PARAGRAPH_BREAK.finditer(m.string, m.start("body"), m.end("body")):
        out.append(m.string[pos : br.start()] + " ")
        offsets += index[pos : br.start()] + [index[br.start()]]
        pos = br.end()
    out.append(m.string[pos : m.end("body")] + " (" + m.group("grade") + ")")
    offsets += index[pos : m.end("body")] + [index[m.start("grade")]] * 2 + index[m.start("grade") : m.end("grade")] + [index[m.end("grade") - 1]]
    return "".join(out), offsets


# an implementation guide's page (FHIR IG): "Recommendation #8 - <title>" heads the
# page, the statement is a labelled field among others ("Recommendation Topic: …",
# "Recommendation Description: <statement>", "Recommendation Category: A"). The
# statement gets a paragraph of its own and the number of the page's heading.
_DESCRIPTION_FIELD = re.compile(
    r"(?m)^[ \t]*Recommendation[ \t]+(?:Description|Statement|Text)[ \t]*:[ \t]*(?=\S)", re.I
)
_NUMBERED_HEADING = re.compile(r"(?m)^[ \t]*Recommendation[ \t]*#?[ \t]*(\d{1,2}[a-z]?)\b[^\n:]*$", re.I)


def _number_description(m: re.Match, index: list[int]):
    headings = list(_NUMBERED_HEADING.finditer(m.string, max(0, m.start() - 2000), m.start()))
    new = f"\nRecommendation #{headings[-1].group(1)}: " if headings else "\n"
    return new, [index[m.start()]] * len(new)


def before_clean(content: str) -> Cleaned:
    """The repairs that must come before the clean stage: a grade glued to the
    next statement's number ("). E9.24 In") would otherwise lose that number
    to the footnote-marker rule ("E9." + "24"); COR and LOE alone on a line
    would be taken for a repeated header."""
    text, index = _rewrite(content, list(range(len(content))), _GLUED_GRADE, _break_after_grade)
    text, index = _rewrite(text, index, _COR_LOE_ABOVE, _join_cor_loe)
    if _CLASS_LEVEL_HEADER.search(text):
        text, index = _rewrite(text, index, _COR_LOE_AT_LINE_END, _bracket_cor_loe)
    text, index = _rewrite(text, index, _LONE_NUMBER_ITEM, _join_lone_item)
    text, index = _rewrite(text, index, _DESCRIPTION_FIELD, _number_description)
    return Cleaned(text, index)


def repair(doc: Cleaned) -> Cleaned:
    text, index = doc.text, doc.index
    plain = _vocabulary(text)[0]
    if _LOOKS_HTML.search(text):
        text, index = _rewrite(text, index, _TAG, _html_repl)
    text, index = _rewrite(text, index, _FOOTER_LINE, lambda m, index: ("", []))
    text, index = _rewrite(text, index, _GLUED_NOT, _split_not)
    text, index = _rewrite(text, index, _SYMBOL_SIGN, _sign)
    if _candidates(_SPLIT_HYPHEN, text, plain) or _candidates(_SPLIT_LIGATURE, text, plain):
        words = _segmenter().words  # English word list, loaded once per process
        text, index = _rewrite(text, index, _SPLIT_HYPHEN, partial(_join, plain=plain, words=words, hyphen=True))
        text, index = _rewrite(text, index, _SPLIT_LIGATURE, partial(_join, plain=plain, words=words, hyphen=False))
    return Cleaned(text, index)
