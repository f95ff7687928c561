"""How the cut-offs of one statement combine: exclusions and alternatives.

- An exclusion carrying a cut-off ("… excluding / except / other than / not in
  people with LDL-C >4.9 mmol/L", "unless eGFR <30", "without … or LDL >4.9")
  makes the statement NOT apply on its side of the cut-off: the threshold keeps
  the comparator the text gives and is marked ``excludes``.
- Alternative qualifying criteria ("for any of the following: a) … b) … c) …",
  "either … or …") are an OR of ANDs: each cut-off is given the label of the
  alternative it sits in (``alternative``), and the statement lists the
  alternatives' texts, so the Gherkin writer can build one scenario per
  alternative instead of joining every cut-off with AND.
"""
from __future__ import annotations

import re

from .model import Threshold

# cues that open an exclusion of people (never the statement's own negation:
# "Do not offer X to people with …" has no "not in/to/for" right after "not")
_EXCLUDE_WIDE = re.compile(
    r"\b(?:excluding|exclude|except(?:\s+(?:in|for|among|when|if))?|other\s+than|unless|"
    r"not\s+(?:in|for|to|among)|but\s+not)\b",
    re.I,
)
# cues that exclude the nouns of a list only ("without CVD, DM, or LDL >4.9"):
# a cut-off after "aged", "with", "who" … belongs to the people, not to the list
_EXCLUDE_LIST = re.compile(r"\b(?:without|who\s+(?:do|does)\s+not\s+have|with\s+no|free\s+of|absence\s+of)\b", re.I)
_LIST_STOP = re.compile(r"\b(?:aged|age|with|who|whose|that|if|when|whom|and\s+(?:have|has|are|is))\b", re.I)
_SCOPE_END = re.compile(r"[;:.]\s|\bbut\b(?!\s+not)|,\s*(?:if|when|who|whereas|while|and\s+(?:offer|consider|start))\b", re.I)

_INTRO = re.compile(
    r"\b(?:(?:any|one\s+or\s+more|at\s+least\s+one|one|either)\s+of\s+(?:the\s+)?(?:following|these)\b[^:]{0,60}:"
    r"|any\s+of\s*:|either\s+of\s*:)",
    re.I,
)
_ITEM = re.compile(r"(?:(?<=\s)|^|(?<=:))\(?(?P<label>[a-h]|[ivx]{1,4}|\d)\)\s+")
_EITHER = re.compile(r"\beither\b", re.I)


def _positions(sentence: str, thresholds: list[Threshold]) -> list[int]:
    """Where each threshold's raw text starts in the sentence (-1 unknown)."""
    out, pos = [], 0
    for t in thresholds:
        at = sentence.find(t.raw, pos) if t.raw else -1
        out.append(at)
        if at >= 0:
            pos = at + len(t.raw)
    return out


def mark_exclusions(sentence: str, thresholds: list[Threshold]) -> None:
    """Mark the cut-offs inside an exclusion clause (``t.excludes = True``)."""
    for t, at in zip(thresholds, _positions(sentence, thresholds)):
        if at < 0 or t.kind == "target":
            continue
        for cue in _EXCLUDE_WIDE.finditer(sentence, 0, at):
            if not _SCOPE_END.search(sentence, cue.end(), at):
                t.excludes = True
        for cue in _EXCLUDE_LIST.finditer(sentence, 0, at):
            gap = sentence[cue.end() : at]
            if not _SCOPE_END.search(gap) and not _LIST_STOP.search(gap):
                t.excludes = True


def _lettered(sentence: str, start: int) -> list[tuple[str, int, int]]:
    """Items "a) … b) … c) …" (or "(a)", "1)", "i)") after position start,
    in sequence; [] when there are fewer than two."""
    items: list[tuple[str, int]] = []
    for m in _ITEM.finditer(sentence, start):
        label = m.group("label").lower()
        if not items:
            if label not in ("a", "i", "1"):
                continue
        else:
            prev = items[-1][0]
            nxt = {"i": "ii", "ii": "iii", "iii": "iv", "iv": "v"}.get(prev) if prev in ("i", "ii", "iii", "iv") else None
            if label != (nxt or (chr(ord(prev) + 1) if len(prev) == 1 else None)):
                continue
        items.append((label, m.start()))
    if len(items) < 2:
        return []
    out = []
    for i, (label, at) in enumerate(items):
        end = items[i + 1][1] if i + 1 < len(items) else len(sentence)
        out.append((label, at, end))
    return out


def find_alternatives(sentence: str) -> tuple[int, list[tuple[str, int, int]]]:
    """(where the list of alternatives starts, [(label, start, end)]) or (-1, [])."""
    intro = _INTRO.search(sentence)
    if intro:
        items = _lettered(sentence, intro.end())
        if items:
            return intro.start(), items
        # "any of the following: X; Y; Z" without letters
        rest = sentence[intro.end() :]
        parts = [p for p in re.split(r";\s*(?:or\s+)?", rest) if p.strip()]
        if len(parts) >= 2:
            out, pos = [], intro.end()
            for n, p in enumerate(parts):
                at = sentence.find(p, pos)
                out.append((chr(ord("a") + n), at, at + len(p)))
                pos = at + len(p)
            return intro.start(), out
    either = _EITHER.search(sentence)
    if either:
        end_m = _SCOPE_END.search(sentence, either.end())
        end = end_m.start() if end_m else len(sentence)
        clause = sentence[either.end() : end]
        split = clause.rfind(", or ")
        width = 5
        if split < 0:
            split = clause.rfind(" or ")
            width = 4
        if split > 0:
            a0 = either.end()
            b0 = either.end() + split + width
            return either.start(), [("a", a0, b0 - width), ("b", b0, end)]
    return -1, []


def assign(sentence: str, thresholds: list[Threshold]) -> tuple[int, list[str]]:
    """Label each threshold with its alternative; returns (list start, the
    alternatives' texts as "a) …") or (-1, []) when the statement has none or
    no alternative carries a cut-off (then nothing changes)."""
    start, items = find_alternatives(sentence)
    if not items:
        return -1, []
    positions = _positions(sentence, thresholds)
    hits = {}
    for t, at in zip(thresholds, positions):
        for label, s, e in items:
            if at >= 0 and s <= at < e and not t.excludes:
                hits[id(t)] = label
    if not hits:
        return -1, []
    if sentence[start:].lower().startswith("either") and len(set(hits.values())) < len(items):
        return -1, []  # "either an ACE inhibitor or an ARB … for UACR ≥300": a choice of action, not of criteria
    for t in thresholds:
        if id(t) in hits:
            t.alternative = hits[id(t)]
    texts = []
    for label, s, e in items:
        body = re.sub(r"^\(?[a-z0-9]{1,4}\)\s*", "", sentence[s:e].strip()).strip(" ;,.")
        body = re.sub(r"\s*(?:,\s*)?\b(?:or|and)$", "", body).strip(" ;,")
        texts.append(f"{label}) {body}")
    return start, texts
