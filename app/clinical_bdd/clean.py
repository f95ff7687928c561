"""Clean stage: undo PDF-extraction artifacts and normalise text, keeping for
every character its offset in the original, so spans still point into it.

``clean_document`` works on the whole document (running headers/footers, page
numbers, line-end hyphenation, ligatures, footnote markers, letter-spaced
runs); ``clean_inline`` then collapses whitespace and Markdown within a unit.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache, partial

# --------------------------------------------------------------------------
# whitespace and Markdown within one unit

_MD_INLINE = re.compile(r"\*\*|__|`|(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])")


def _markdown_links(raw: str):
    r"""(start, end of the text, end) of each Markdown link "[text](url)", as
    re.finditer(r"\[([^\]]+)\]\([^)]*\)") finds them, in linear time: that
    regex scanned from every "[" to the next "]" (quadratic for "[[[[…"); here
    the next "]" and the next ")" are each found once and reused."""
    n = len(raw)
    close_bracket = close_paren = -1
    pos = 0
    while True:
        start = raw.find("[", pos)
        if start < 0:
            return
        if close_bracket <= start:
            close_bracket = raw.find("]", start + 1)
            if close_bracket < 0:
                return
        if close_bracket == start + 1 or close_bracket + 1 >= n or raw[close_bracket + 1] != "(":
            pos = start + 1
            continue
        if close_paren <= close_bracket + 1:
            close_paren = raw.find(")", close_bracket + 2)
            if close_paren < 0:
                return
        yield start, close_bracket, close_paren + 1
        pos = close_paren + 1


def clean_inline(raw: str, base: int = 0) -> tuple[str, list[int]]:
    """Collapse whitespace and strip Markdown emphasis; return the clean text
    and, for each clean character, its offset in the original content."""
    skip: set[int] = set()
    if "*" in raw or "_" in raw or "`" in raw:
        for m in _MD_INLINE.finditer(raw):
            skip.update(range(m.start(), m.end()))
    if "[" in raw:
        # Markdown links [text](url) -> text
        for start, text_end, end in _markdown_links(raw):
            skip.add(start)
            skip.update(range(text_end, end))
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
# whole-document cleaning of PDF-extraction artifacts


@dataclass
class Cleaned:
    text: str
    index: list[int]  # index[i] is the offset in the original of text[i]


def _rewrite(text: str, index: list[int], pattern: re.Pattern, repl) -> tuple[str, list[int]]:
    """Replace every match for which ``repl(match)`` returns (new text, one
    original offset per new character); None leaves the match as it is."""
    out: list[str] = []
    idx: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        got = repl(m, index)
        if got is None:
            continue
        new, offsets = got
        out.append(text[pos : m.start()])
        idx.extend(index[pos : m.start()])
        out.append(new)
        idx.extend(offsets)
        pos = m.end()
    if not out:
        return text, index
    out.append(text[pos:])
    idx.extend(index[pos:])
    return "".join(out), idx


# Running headers/footers repeat on every page with only the page number
# changing; statements, headings, list items and table rows may repeat too.
_PAGE_NUMBER = re.compile(r"^(?:S\d{1,4}|Page\s+\d+(?:\s+of\s+\d+)?|\d+\s+of\s+\d+|\d{1,4})$", re.I)
_NEVER_RUNNING = re.compile(
    r"^(?:#|\||[-*+\u2022]\s|recommendations?\b|practice\s+point\b|table\b|figure\b|\d+(?:\.\d+)+[a-z]?\s*[A-Z(])", re.I
)
_RUNNING_HINT = re.compile(r"\d|/|\||\u00a9|www\.|\.org|\.com", re.I)
_SENTENCE_END = re.compile(r"[.!?;:)]\s*(?:[A-E])?$")
_RUNNING_MIN_REPEATS = 3
_RUNNING_MAX_CHARS = 120


def _page_key(line: str) -> str:
    return re.sub(r"\d+", "0", " ".join(line.split()))


def _page_edges(lines: list[str]) -> set[int]:
    """First and last text line of every page, where form feeds mark the pages."""
    edges: set[int] = set()
    page: list[int] = []
    for i, line in enumerate(lines + ["\f"]):
        if line.startswith("\f") and page:
            edges.update((page[0], page[-1]))
            page = []
        if line.strip("\f \t\r\n"):
            page.append(i)
    return edges


def _running_lines(raw_lines: list[str], lines: list[str]) -> set[str]:
    """Keys of lines that repeat on 3+ pages, or on 2+ page edges when the
    text has form feeds (pdftotext's page breaks)."""
    counts: Counter[str] = Counter()
    at_edges: Counter[str] = Counter()
    sample: dict[str, str] = {}
    edges = _page_edges(raw_lines) if any(line.startswith("\f") for line in raw_lines) else set()
    for i, line in enumerate(lines):
        if line.strip():
            key = _page_key(line)
            counts[key] += 1
            at_edges[key] += i in edges
            sample.setdefault(key, line.strip())
    return {
        key
        for key, n in counts.items()
        if (n >= _RUNNING_MIN_REPEATS or at_edges[key] >= 2)
        and len(key) <= _RUNNING_MAX_CHARS
        and _RUNNING_HINT.search(sample[key])
        and not _NEVER_RUNNING.match(sample[key])
        and not _SENTENCE_END.search(sample[key])
    }


# A line-end hyphen splits a word ("hypogly-" / "cemia") unless the document
# spells the compound with a hyphen elsewhere, or the first part is a prefix
# that is always hyphenated.
_HYPHEN_PREFIXES = frozenset(
    "non self well first second third high low long short evidence once twice all cross follow "
    "age risk drug co pre post".split()
)
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_LINE_START_WORD = re.compile(r"[a-z][A-Za-z]*")


def _vocabulary(content: str) -> tuple[set[str], set[str]]:
    words = {w.lower() for w in _WORD.findall(content)}
    plain = {w for w in words if "-" not in w}
    hyphenated = {w for w in words if "-" in w}
    for w in hyphenated:
        plain.update(w.split("-"))
    return plain, hyphenated


def _keep_hyphen(first: str, second: str, plain: set[str], hyphenated: set[str]) -> bool:
    joined = (first + second).lower()
    if f"{first}-{second}".lower() in hyphenated and joined not in plain:
        return True
    return first.lower() in _HYPHEN_PREFIXES and joined not in plain


def _drop_trailing_blank_lines(out: list[str], idx: list[int]) -> bool:
    dropped = False
    while out and out[-1] == "\n":
        j = len(out) - 2
        while j >= 0 and out[j] in " \t\r\f":
            j -= 1
        if j >= 0 and out[j] != "\n":
            break
        del out[j + 1 :], idx[j + 1 :]
        dropped = True
    return dropped


def _continues(out: list[str], next_line: str) -> bool:
    """An unfinished sentence before a page break, carried on in lower case after it."""
    return next_line[:1].islower() and not _SENTENCE_END.search("".join(out[-8:]).rstrip())


def _join_lines(text: str, index: list[int], plain: set[str], hyphenated: set[str]) -> tuple[str, list[int]]:
    """Drop running headers/footers and page numbers, join hyphenated line ends."""
    lines = []
    pos = 0
    for line in re.split(r"(?<=\n)|(?=\f)", text):
        if line:
            lines.append((pos, line))
            pos += len(line)
    bodies = [line.strip("\f\r\n") for _, line in lines]
    running = _running_lines([line for _, line in lines], bodies)
    numbers = sum(1 for b in bodies if _PAGE_NUMBER.match(b.strip()))
    out: list[str] = []
    idx: list[int] = []
    pending = None  # (length of out before "-", original offset of "-", word part)
    # a dropped header/footer takes its surrounding blank lines with it, so that a
    # statement split by a page break is whole again; blank lines on both sides
    # still leave one paragraph break unless the text plainly runs on
    furniture = blank_before = blank_after = False
    gap = False  # blank lines since the last text line: a paragraph break
    for (start, line), body in zip(lines, bodies):
        stripped = body.strip()
        if stripped and (
            _page_key(stripped) in running or (numbers >= _RUNNING_MIN_REPEATS and _PAGE_NUMBER.match(stripped))
        ):
            if not furniture:
                blank_before, blank_after = _drop_trailing_blank_lines(out, idx), False
            furniture, gap = True, False
            continue
        if not stripped:
            if furniture:
                blank_after = True
                continue
            gap = True
        else:
            if gap:
                pending = None
            if furniture and blank_before and blank_after and not pending and not _continues(out, stripped):
                out.append("\n")
                idx.append(index[start])
            furniture = gap = False
        skip = len(line) - len(line.lstrip("\f"))
        if pending and stripped:
            at, hyphen, first = pending
            pending = None
            indent = len(line) - len(line.lstrip("\f \t"))
            nxt = _LINE_START_WORD.match(line, indent)
            if nxt:
                del out[at:], idx[at:]
                if _keep_hyphen(first, nxt.group(), plain, hyphenated):
                    out.append("-")
                    idx.append(hyphen)
                skip = indent
        out.extend(line[skip:])
        idx.extend(index[start + skip : start + len(line)])
        word = _word_before_line_end_hyphen(body.rstrip())
        if word and line.endswith("\n"):
            # where "-" + newline start, so that the next line can undo them
            dash = len(out) - len(line) + len(line.rstrip(" \t\r\n")) - 1
            pending = (dash, idx[dash], word)
    return "".join(out), idx


def _word_before_line_end_hyphen(text: str) -> str | None:
    """The letters before a line's final hyphen ("hypogly-" → "hypogly"), ending in a lower-case
    letter, or None. A backward scan, linear in the word: a regular expression searched over the
    line backtracked over every start in a long run of letters (quadratic; issue 17)."""
    if not text.endswith("-"):
        return None
    start = end = len(text) - 1
    while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
        start -= 1
    word = text[start:end]
    return word if word and word[-1].islower() else None


_LIGATURE = re.compile("[\ufb00-\ufb06]")
# words a PDF glued to an abbreviation: "anLDL-Creduction" (an LDL-C reduction); the
# space goes after the matched part
_GLUED_ABBREVIATION = re.compile(r"\b(?:an|the|of|and|with|to|in|for)(?=[A-Z]{2,}[-\s\u2011])|(?<=[A-Z]{2}-C)(?=[a-z]{4,})")
# "of>_50%": a PDF's underlined > or < (the ≥ or ≤ glyph drawn as two characters)
_UNDERLINED_CMP = re.compile(r"[<>]_(?=\s*\d)")
# superscript digits (not the ² of "m²"), daggers, and reference numbers glued
# after punctuation ("… therapy.12 ", "… (Fig. 9.1).15,16")
_FOOTNOTE = re.compile(
    r"(?<![mc\d])[\u00b9\u00b2\u00b3\u2070\u2074-\u207e]+"
    r"|[\u2020\u2021\u00b6\u2016]+"
    r"|(?<=[A-Za-z%)\]][.,;:])\d{1,3}(?:[,\u2013-]\d{1,3})*(?=[\s)]|$)"
    r"|(?<=[A-Za-z]\d\.)\d{1,3}(?:[,\u2013-]\d{1,3})*(?=\s+[A-Z]|\s*$)"  # "… 1.73 m2.14 Next"
    r"|(?<=[a-z]{3}\.)[a-e](?=\s+[A-Z]|[ \t]*\|?[ \t]*(?:\n|$))"  # a table note's letter: "… lifestyle.b Prescribe …"
)
_MIDLINE_HYPHEN = re.compile(r"\b([A-Za-z]{2,})- (?!(?:and|or|to|nor|but|as)\b)([a-z]{2,})\b")
# 4+ tokens of one or two letters with 3+ lone letters: "w h oh a v eC K D"
_SPACED_RUN = re.compile(r"(?<![\w-])(?:[A-Za-z]{1,2} ){3,}[A-Za-z]{1,2}(?![\w-])")
_SPACED_RUN_MAX_TOKENS = 80
_LONE = re.compile(r"(?<![\w-])[B-HJ-Zb-z](?![\w-])")


def _expand_ligature(m: re.Match, index: list[int]):
    expanded = unicodedata.normalize("NFKC", m.group())
    return expanded, [index[m.start()]] * len(expanded)


def _join_midline(m: re.Match, index: list[int], plain: set[str], hyphenated: set[str]):
    """ "hypogly- cemia" (hyphenated line end already flattened): join only
    when the document spells the joined word that way elsewhere."""
    first, second = m.group(1), m.group(2)
    if (first + second).lower() not in plain or _keep_hyphen(first, second, plain, hyphenated):
        return None
    return first + second, index[m.start(1) : m.end(1)] + index[m.start(2) : m.end(2)]


@lru_cache(maxsize=1)
def _segmenter():
    """SymSpell with its bundled English frequency list (loaded once, ~0.6 s)."""
    from importlib.resources import files

    from symspellpy import SymSpell

    sym = SymSpell(max_dictionary_edit_distance=0, prefix_length=7)
    sym.load_dictionary(str(files("symspellpy") / "frequency_dictionary_en_82_765.txt"), 0, 1)
    return sym


def _respace(m: re.Match, index: list[int], plain: set[str]):
    run = m.group()
    # a spaced-out phrase is short; a long run of letters is data, and costly to segment
    if run.count(" ") > _SPACED_RUN_MAX_TOKENS or len(_LONE.findall(run)) < 3:
        return None
    letters = run.replace(" ", "")
    sym = _segmenter()
    words = sym.word_segmentation(letters, max_edit_distance=0).segmented_string.split()
    if "".join(words) != letters or len(words) >= run.count(" ") + 1:
        return None
    for w in words:
        if not (w.lower() in sym.words or w.lower() in plain or (len(w) > 1 and w.isupper())):
            return None  # an unknown piece: leave the run as it is
    positions = [index[m.start() + i] for i, ch in enumerate(run) if ch != " "]
    new, offsets, k = [], [], 0
    for i, w in enumerate(words):
        if i:
            new.append(" ")
            offsets.append(positions[k])
        new.append(w)
        offsets.extend(positions[k : k + len(w)])
        k += len(w)
    return "".join(new), offsets


def clean_document(content: str) -> Cleaned:
    text, index = _rewrite(content, list(range(len(content))), _LIGATURE, _expand_ligature)
    plain, hyphenated = _vocabulary(text)
    text, index = _join_lines(text, index, plain, hyphenated)
    text, index = _rewrite(text, index, _FOOTNOTE, lambda m, index: ("", []))
    text, index = _rewrite(
        text, index, _GLUED_ABBREVIATION,
        lambda m, index: (m.group(0) + " ", index[m.start() : m.end()] + [index[m.end() - 1]]),
    )
    text, index = _rewrite(
        text, index, _UNDERLINED_CMP, lambda m, index: ("\u2265" if m.group(0)[0] == ">" else "\u2264", [index[m.start()]])
    )
    text, index = _rewrite(text, index, _MIDLINE_HYPHEN, partial(_join_midline, plain=plain, hyphenated=hyphenated))
    if " " in text:
        text, index = _rewrite(text, index, _SPACED_RUN, partial(_respace, plain=plain))
    return Cleaned(text, index)
