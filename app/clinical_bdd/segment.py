"""Segment stage: split the (cleaned) document into units — headings, list
items, paragraphs, table rows — and recognise the guideline's formal
recommendations: numbered statements ("9.2For most adults …", "1.1.3 Offer …",
"Recommendation 1.3.1: …", "Practice Point 2.1:"), ACC/AHA rows with COR and
LOE columns, and graded statements in a block under a "Recommendations" heading.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .classify import (
    CUE,
    INSUFFICIENT,
    LABELLED_STRENGTH,
    STRENGTH_LINE,
    ends_with_strength,
    explicit_strength,
    has_cor_and_loe,
    strength_cell,
)
from .clean import clean_inline

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(
    r"^\s*(?:[-*+\u2022]|\d{1,3}[.)]|\(?[a-z]\)|[a-z]\.)\s+(?=\S)"
)
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")

# "Recommendations", "1 Recommendations", "RECOMMENDATION SUMMARY",
# "Recommendations for BP treatment threshold:" (never "Recommendation 5: …")
_REC_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\.?\s+)?(?:key\s+|summary\s+of\s+)?recommendations?\b(?!\s*#?\d)[^.!?]{0,100}$", re.I
)
# "Recommendation 1.3.1:", "Recommendation #8:", CDC's "Recommendation 8 Before …"
_NAMED = re.compile(
    r"^(?P<kind>Recommendation|Practice\s+Point)\s+#?(?P<num>\d+(?:\.\d+)*[a-z]?)(?:\s*[:.)\u2013-]\s*|\s+(?=[A-Z][a-z]))", re.I
)
# a number alone on its line, the statement on the next ("1.7.2" / "If an adult …")
_BULLET = re.compile(r"^[\u2022*-]\s+")
_BARE_NUMBER = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3}){1,3}[a-z]?)\.?$")
# ACC/AHA table as extracted from PDF: "2a  B-NR  3. In adults with …"
_COLUMNS = re.compile(
    r"^(?P<cor>(?:1|2a|2b|3|I|IIa|IIb|III)(?::\s*(?:No\s+Benefit|Harm))?)\s+"
    r"(?P<loe>A|B-R|B-NR|C-LD|C-EO|B|C)\s+(?P<num>\d{1,2})\.\s+(?=\S)"
)
# "9.2For" (number glued to the first word), "9.16a In", "1.2.3 Offer", "1.2. For"
# "11.1a – At least …": a dash after the number (a web reprint) is part of the numbering
_NUMBERED = re.compile(
    r"^(?P<num>\d{1,3}(?:\.\d{1,3}){1,3}[a-z]?)\.?(?:\s+[\u2013\u2014-]\s+|\s+|(?=[A-Z]))(?=[A-Z(\"\u201c])"
)
_ITEM_NUMBER = re.compile(r"^(?P<num>\d{1,2})[.)]\s+(?=\S)")
_TABLE_CAPTION = re.compile(r"^Table\s+\d+(?:\.\d+)*[A-Za-z]?\b")
# two column gaps that do not follow a sentence end: a table row in layout mode
_LAYOUT_ROW = re.compile(r"[^\s.!?:;](?: {2,}|\t)\S.*[^\s.!?:;](?: {2,}|\t)\S")
_CAPS_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Z][A-Z0-9 ,&/()\u2013-]{3,80}$")
# column headers of recommendation tables: "COR LOE", "# Recommendation Strength Category",
# "RecommendationQuality of evidenceStrength of recommendation"
_COLUMN_HEADER = re.compile(
    r"^(?:(?:COR|Class)\s+(?:LOE|Level)\b|#?\s*Recommendations?\s*(?:Quality|Strength|Grade|Category)\b)", re.I
)
_REC_TABLE_CAPTION = re.compile(r"^Table\s+\d+(?:\.\d+)*[.:\u2014-]?\s*(?:Summary\s+of\s+)?Recommendations\b", re.I)
# where one extracted line holds several units: a bullet after text, or a
# "Recommendation N" after an upper-case heading
_INLINE_BREAK = re.compile(r"(?<=\S)\s+(?=\u2022\s)|(?<=[A-Z]{3}) (?=Recommendation\s+#?\d)")
_TERMINAL = re.compile(r"[.!?:;)\]]$")
_REFERENCE_NUMBER = re.compile(r"^\d{3,}$")
# a summary table's header (USPSTF): "Population | Recommendation | Grade |", or as
# plain text "Population Recommendation Grade"; each row is one recommendation
_SUMMARY_HEADER = re.compile(
    r"^\|?\s*(?:Population|Patient\s+population|Age\s+(?:range|group))\s*\|?\s+Recommendations?\s*"
    r"(?:\|?\s*(?:Grade|Strength(?:\s+of\s+recommendation)?)\s*)?\|?\s*$",
    re.I,
)
_GRADE_CELL = re.compile(r"^(?:Grade\s+)?([A-DI])(?:\s+(?:recommendation|statement))?$", re.I)
# where a plain-text row's recommendation starts: a capitalised word straight after
# a word or number of the population cell ("… 10% or greater The USPSTF recommends …")
_ROW_SPLIT = re.compile(r"(?<=[a-z0-9%)\]]) (?=[A-Z][a-z])")


def _pipe_row(stripped: str) -> bool:
    """A Markdown table row, with or without the leading pipe ("A | B | C |")."""
    return stripped.startswith("|") or (stripped.endswith("|") and stripped.count("|") >= 2)


def _cells(body: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a pipe row, in the line's own offsets."""
    out, pos = [], 0
    stripped_at = len(body) - len(body.lstrip())
    inner = body.rstrip()
    start = stripped_at + 1 if inner[stripped_at : stripped_at + 1] == "|" else stripped_at
    end_all = len(inner) - 1 if inner.endswith("|") else len(inner)
    pos = start
    for piece in inner[start:end_all].split("|"):
        a, b = pos, pos + len(piece)
        lead = len(piece) - len(piece.lstrip())
        out.append((a + lead, a + lead + len(piece.strip())))
        pos = b + 1
    return out


def _summary_columns(stripped: str) -> dict:
    """Column positions of a summary header: population, recommendation, grade."""
    names = [c.strip().lower() for c in stripped.strip("|").split("|")] if "|" in stripped else []
    if len(names) < 2:
        return {"pipe": "|" in stripped, "pop": 0, "rec": 1, "grade": 2}
    cols = {"pipe": True, "pop": None, "rec": None, "grade": None}
    for i, name in enumerate(names):
        if name.startswith(("population", "patient", "age")):
            cols["pop"] = i
        elif name.startswith("recommendation"):
            cols["rec"] = i
        elif name.startswith(("grade", "strength")):
            cols["grade"] = i
    return cols


def _summary_row(line: "_Line", cols: dict, section: str | None, block: int | None) -> "Unit | None":
    """One row of a summary table: its recommendation cell as the statement, the
    population cell beside it (who), the grade cell (the row's grade)."""
    body = line.body
    if cols["pipe"]:
        cells = _cells(body)
        if cols["rec"] is None or cols["rec"] >= len(cells):
            return None
        r0, r1 = cells[cols["rec"]]
        pop = cells[cols["pop"]] if cols["pop"] is not None and cols["pop"] < len(cells) else None
        grade_text = body[slice(*cells[cols["grade"]])] if cols["grade"] is not None and cols["grade"] < len(cells) else ""
        g = _GRADE_CELL.match(grade_text.strip())
        statement = body[r0:r1]
        if not (g or CUE.search(statement) or INSUFFICIENT.search(statement)):
            return None
        unit = Unit(line.start + r0, line.start + r1, section, [], None, True, block)
        unit.population_span = (line.start + pop[0], line.start + pop[1]) if pop and pop[1] > pop[0] else None
        unit.row_grade = g.group(1).upper() if g else None
        return unit
    stripped = body.strip()
    lead = len(body) - len(body.lstrip())
    cue = CUE.search(stripped) or INSUFFICIENT.search(stripped)
    if not cue:
        return None
    split = next(_ROW_SPLIT.finditer(stripped, 0, cue.start()), None)
    begin = split.end() if split else 0
    unit = Unit(line.start + lead + begin, line.start + lead + len(stripped), section, [], None, True, block)
    if split:
        unit.population_span = (line.start + lead, line.start + lead + split.start())
    return unit


@dataclass
class Unit:
    start: int
    end: int
    section: str | None
    strength_cells: list[str] = field(default_factory=list)
    source_id: str | None = None
    formal: bool = False
    block: int | None = None  # which "Recommendations" block the unit sits in
    graded: bool = False
    explicit: bool = False  # graded by a named strength, not a bare letter
    # a summary table's row (USPSTF "Population | Recommendation | Grade"): where the
    # population cell is in the text, and the grade column's letter
    population_span: tuple[int, int] | None = None
    row_grade: str | None = None
    # a risk-category table's row ("≥10% | Prescribe …"): what its bare cut-off measures
    row_measure: str | None = None


@dataclass
class _Line:
    start: int
    body: str  # without the line break

    @property
    def stripped(self) -> str:
        return self.body.strip()


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        cut = 0
        for m in _INLINE_BREAK.finditer(body):
            out.append(_Line(pos + cut, body[cut : m.start()]))
            cut = m.end()
        out.append(_Line(pos + cut, body[cut:]))
        pos += len(line)
    return out


def _title_case(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z]{4,}", text)]
    return "," not in text and bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _is_numbered_heading(line: _Line, following: _Line | None) -> bool:
    """ "1.1 Individualised care" (alone), "8.1.2. BP Treatment Threshold"."""
    if _TERMINAL.search(line.stripped) or ends_with_strength(line.stripped) or len(line.stripped.split()) > 14:
        return False
    if following is None or not following.stripped or _NUMBERED.match(following.stripped):
        return True
    return _title_case(_NUMBERED.sub("", line.stripped)) or bool(_REC_HEADING.match(following.stripped))


def _is_subheading(stripped: str, following: _Line | None) -> bool:
    """A short title line between the numbered rows of a recommendation table."""
    return (
        following is not None
        and not _TERMINAL.search(stripped)
        and 1 < len(stripped.split()) <= 8  # a lone "A" is a grade wrapped onto its own line
        and stripped[:1].isupper()
        and not CUE.search(stripped)
        and bool(_ITEM_NUMBER.match(following.stripped) or _NUMBERED.match(following.stripped))
    )


def _heading_lines(lines: list[_Line], n: int) -> int:
    """How many lines (0, 1 or 2) a "Recommendations …" heading at line n takes."""
    line = lines[n].stripped
    if not _REC_HEADING.match(line):
        return 0

    def closes(k: int) -> bool:  # what may follow a heading
        nxt = lines[k].stripped if k < len(lines) else ""
        return not nxt or bool(_COLUMN_HEADER.match(nxt) or _COLUMNS.match(nxt) or _NUMBERED.match(nxt))

    if line.endswith(":") or line.isupper() or len(line.split()) <= 4 or closes(n + 1):
        return 1
    if n + 1 < len(lines):
        second = lines[n + 1].stripped
        if second and not _TERMINAL.search(second) and len(second.split()) <= 10 and closes(n + 2):
            return 2
    return 0


def _resolve_blocks(units: list[Unit]) -> None:
    """In a Recommendations block, numbered or graded units are formal; the
    first unit that is neither ends the block (narrative follows). Outside a
    block, a numbered item is formal when it carries an explicit strength
    ("(recommendation category: A; …)", "Strong for")."""
    closed: set[int] = set()
    for unit in units:
        if unit.formal:
            continue
        if unit.block is None:
            unit.formal = unit.source_id is not None and unit.explicit
            if not unit.formal:
                unit.source_id = None
        elif unit.block not in closed and unit.graded:
            unit.formal = True
        else:
            closed.add(unit.block)
            unit.source_id = None


def _table_row(line: _Line, body: str, stripped: str, section: str | None, block: int | None) -> Unit:
    """A Markdown (or HTML, once repaired) table row: the longest cell is the
    statement, the others its number and strength."""
    cells = [c.strip() for c in stripped.strip("|").split("|")]
    longest = max(cells, key=len)
    offset = body.find(longest)
    others = [c for c in cells if c is not longest]
    unit = Unit(line.start + offset, line.start + offset + len(longest), section, others, block=block)
    number = next((c.rstrip(".") for c in others if re.fullmatch(r"\d{1,3}(?:\.\d{1,3})*[a-z]?\.?", c)), None)
    # an ACC/AHA table (COR and LOE cells) or a strength column ("Strong for")
    unit.formal = has_cor_and_loe(others) or any(strength_cell(c) for c in others)
    unit.source_id = number if unit.formal else None
    return unit


# a risk-category table: a column named for the risk ("Estimated 5-year CVD risk") and
# rows whose first cell is a bare cut-off of it ("≥10%", "5% to <10%", "<5%")
_RISK_COLUMN = re.compile(
    r"\b(?P<n>\d{1,2})[\s\-\u2010\u2011\u2013]*year\s+(?:CVD|cardiovascular(?:\s+disease)?|CV)\s+risk", re.I
)
_BARE_CUTOFF = re.compile(
    r"^(?:[\u2265\u2264<>]=?\s*\d+(?:\.\d+)?\s*%"
    r"|\d+(?:\.\d+)?\s*%?\s*(?:to|-|\u2013)\s*[<\u2264]?\s*\d+(?:\.\d+)?\s*%)$"
)


def _cutoff_row(line: _Line, body: str, measure: str, section: str | None, block: int | None) -> list[Unit]:
    """A risk-category row "≥10% | Encourage … Prescribe … |": each sentence of its
    statement cell, with the cut-off cell as the row's population (who it applies to)."""
    from .classify import sentences

    cells = [c for c in _cells(body) if c[1] > c[0]]
    if len(cells) < 2 or not _BARE_CUTOFF.match(body[cells[0][0] : cells[0][1]]):
        return []
    a, b = cells[1]
    if len(body[a:b].split()) < 3:
        return []
    units = []
    for s_start, s_end in sentences(body[a:b]):
        unit = Unit(line.start + a + s_start, line.start + a + s_end, section, [], None, True, block)
        unit.population_span = (line.start + cells[0][0], line.start + cells[0][1])
        unit.row_measure = measure
        units.append(unit)
    return units


_STRENGTH_SENTENCE = re.compile(r"(?:^|(?<=[.!?])\s+)(?P<what>This\s+is\s+an?\s+(?P<grade>(?:weak|strong|conditional)\s+recommendation))\b", re.I)


def segment(text: str) -> list[Unit]:
    lines = _lines(text)
    units: list[Unit] = []
    section: str | None = None
    current: Unit | None = None
    block: int | None = None
    in_table = False
    skip_lines = 0
    colon_owner: Unit | None = None  # a formal statement ending "…:" that its bullets continue
    pending: tuple | None = None  # "Recommendation #8:" alone: its statement starts on the next text line
    summary: dict | None = None  # the columns of a summary table being read
    risk_measure: str | None = None  # the risk column of a risk-category table being read
    for n, line in enumerate(lines):
        body, stripped = line.body, line.stripped
        line_end = line.start + len(body)
        following = lines[n + 1] if n + 1 < len(lines) else None
        if not stripped:
            current, in_table, summary, risk_measure = None, False, None, None
            continue
        if skip_lines:
            skip_lines -= 1
            continue
        lead = len(body) - len(body.lstrip())
        if pending is not None:
            source_id, cells, formal = pending
            pending = None
            current = Unit(line.start + lead, line_end, section, cells, source_id, formal, block)
            units.append(current)
            if ends_with_strength(stripped):
                current = None
            continue
        if colon_owner is not None:
            if _LIST_ITEM.match(body) and not _NUMBERED.match(stripped):
                colon_owner.end = line_end
                continue
            colon_owner = None
        if (STRENGTH_LINE.match(stripped) or LABELLED_STRENGTH.match(stripped)) and units and text[
            units[-1].start : units[-1].end
        ].strip():
            units[-1].strength_cells.append(stripped)  # the statement above is graded by this line
            current = None
            continue
        heading = _HEADING.match(body)
        taken = 0 if heading else _heading_lines(lines, n)
        if not (heading or taken) and _REC_TABLE_CAPTION.match(stripped):
            taken = 1
        if heading or taken:
            raw_title = heading.group("title") if heading else " ".join(ln.stripped for ln in lines[n : n + taken])
            title = clean_inline(raw_title.rstrip(":"))[0]
            skip_lines = max(taken - 1, 0)
            is_block = bool(_REC_HEADING.match(title) or _REC_TABLE_CAPTION.match(title))
            # a bare "Recommendations" box title keeps the section it sits in
            if not (is_block and len(title.split()) <= 2 and section):
                section = title
            block = len(units) if is_block else None
            current, in_table = None, False
            continue
        if _SUMMARY_HEADER.match(stripped):
            summary, current, in_table = _summary_columns(stripped), None, False
            continue
        if summary is not None:
            if _TABLE_SEP.match(stripped):
                continue
            if summary["pipe"] == _pipe_row(stripped):
                row = _summary_row(line, summary, section, block)
                if row is not None:
                    units.append(row)
                    current = None if summary["pipe"] else row
                    continue
                if not summary["pipe"] and current is not None and current.population_span:
                    current.end = line_end  # a row's text wrapped onto the next line
                    continue
            summary = None
        if _COLUMN_HEADER.match(stripped):
            current, in_table = None, False
            continue
        if _REFERENCE_NUMBER.match(stripped):
            current = None  # a reference or record number on its own line ends a statement
            continue
        if _CAPS_HEADING.match(stripped) and not _TERMINAL.search(stripped):
            section = clean_inline(stripped)[0]
            block, current, in_table = None, None, False
            continue
        if _TABLE_CAPTION.match(stripped):
            current, in_table, risk_measure = None, True, None
            continue
        if "|" in stripped and (rc := _RISK_COLUMN.search(stripped)) and not _BARE_CUTOFF.match(stripped.split("|")[0].strip()):
            risk_measure = f"{rc.group('n')}-year CVD risk"
            current = None
            continue
        if risk_measure and "|" in stripped and (row := _cutoff_row(line, body, risk_measure, section, block)):
            units.extend(row)
            current = None
            continue
        if stripped.startswith("|"):
            current = None
            if not _TABLE_SEP.match(stripped):
                units.append(_table_row(line, body, stripped, section, block))
            continue
        if block is not None and _is_subheading(stripped, following):
            section, current = clean_inline(stripped)[0], None  # "First-line options" inside a block
            continue
        start_of = None  # (text start, source_id, cells) of a formal statement
        named = _BULLET.sub("", stripped)  # "• Recommendation 2: …"
        m = _NAMED.match(named) or _COLUMNS.match(stripped)
        if m and "kind" in m.groupdict():
            prefix = "PP " if m.group("kind").lower().startswith("practice") else ""
            start_of = (len(stripped) - len(named) + m.end(), prefix + m.group("num"), [])
            if start_of[0] >= len(stripped):
                pending, current = (start_of[1], [], True), None
                continue
        elif m:
            start_of = (m.end(), m.group("num"), [m.group("cor"), m.group("loe")])
        elif (m := _BARE_NUMBER.match(stripped)) and following is not None and following.stripped[:1].isupper():
            current = Unit(following.start, following.start, section, [], m.group("num"), True, block)
            units.append(current)
            continue
        elif (m := _NUMBERED.match(stripped)) is not None:
            if _is_numbered_heading(line, following):
                section = clean_inline(stripped[m.end() :])[0] or section
                current, in_table = None, False
                continue
            start_of = (m.end(), m.group("num"), [])
        elif named != stripped and (m := _NUMBERED.match(named)) is not None:
            start_of = (len(stripped) - len(named) + m.end(), m.group("num"), [])  # "• 11.1a At least …"
        elif (m := _ITEM_NUMBER.match(stripped)) is not None:
            start_of = (m.end(), m.group("num"), None)  # formal only if graded (_resolve_blocks)
        if start_of:
            in_table = False
            begin, source_id, cells = start_of
            formal = cells is not None
            current = Unit(line.start + lead + begin, line_end, section, cells or [], source_id, formal, block)
            units.append(current)
        elif in_table or _LAYOUT_ROW.search(stripped):
            current = None  # table cells are not statements
            continue
        else:
            item = _LIST_ITEM.match(body)
            if item or current is None:
                text_start = line.start + (item.end() if item else lead)
                current = Unit(text_start, line_end, section, block=block)
                units.append(current)
            else:
                current.end = line_end
        if current is not None and current.formal and stripped.endswith(":"):
            colon_owner = current
        if current is not None and (current.formal or current.source_id) and ends_with_strength(stripped):
            current = None  # "… hypoglycemia risk. A": the statement ends here
        elif current is not None and explicit_strength(stripped) and _TERMINAL.search(stripped):
            current = None  # a named strength ends any statement: "… decision-making. (Level 1, C)"
    for unit in units:
        unit.graded = ends_with_strength(text[unit.start : unit.end])
        unit.explicit = unit.graded and explicit_strength(text[unit.start : unit.end])
        graded_by = _STRENGTH_SENTENCE.search(text[unit.start : unit.end]) if unit.source_id and not unit.graded else None
        if graded_by:
            # a numbered key point graded in its next sentence: "This is a weak recommendation …"
            sentence_end = re.search(r"[.!?](?=\s|$)", text[unit.start + graded_by.end() : unit.end])
            stop = unit.start + graded_by.end() + (sentence_end.end() if sentence_end else unit.end - unit.start - graded_by.end())
            unit.strength_cells.append(text[unit.start + graded_by.start("grade") : stop].strip())
            unit.end = unit.start + graded_by.start("what")
            unit.graded = unit.explicit = True
    _resolve_blocks(units)
    return units
