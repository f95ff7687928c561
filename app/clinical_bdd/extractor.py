"""Extract clinical recommendations from guideline prose (plain text, Markdown,
or text extracted from a PDF).

Rule-based and deterministic: the same input always yields the same output.
The pipeline has one module per stage, each usable alone:

    clean (clean.py)        PDF artifacts out, offsets into the original kept
    segment (segment.py)    units; the guideline's formal, numbered statements
    classify (classify.py)  sentences, cues, negation, grade / class and LOE
    parse (parse.py)        population, conditions, action; thresholds.py

Where a document has formal recommendations, every other statement is still
reported, marked ``narrative``; without any, all statements are reported as
before (none narrative).
"""
from __future__ import annotations

import re
import time

from .classify import (
    BALANCE_OF,
    CUE,
    IMPERATIVE_HEAD,
    INSUFFICIENT,
    LEADING_CLAUSE_IMPERATIVE,
    LEADING_STRENGTH_BRACKET,
    parse_parenthetical,
    sentences,
    strip_label,
    unit_strength,
    year_tagged,
)
from .clean import clean_document, clean_inline
from .negation import in_condition, main_negated
from .model import GenerationTimeout, Recommendation, Threshold
from .parse import parse_statement, tidy
from .repair import before_clean, repair
from .segment import segment
from .specialty import infer_specialty
from .thresholds import extract_thresholds, or_groups, refine, threshold_logic
from .alternatives import assign as assign_alternatives, mark_exclusions

__all__ = ["extract", "GenerationTimeout", "infer_specialty", "Recommendation", "Threshold"]


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise GenerationTimeout()


# a strength bracket ("(Strong Recommendation – Grade A)", "(For ages 30-59 years,
# … Grade A; for ages 18-29 years, Expert Opinion – Grade E)") and a qualifier
# right after it ("… Grade A) for ages 30-59 years") say which grade applies to
# whom: they split the grade at most, they are never a cut-off of the statement
_STRENGTH_WORDS = re.compile(
    r"\bgrade\s+[A-EI]\b|\b(?:strong|weak|moderate|conditional)\s+recommendation\b|\bexpert\s+opinion\b", re.I
)
_AFTER_BRACKET = re.compile(r"\s*[,;]?\s*for\s+(?:ages?|those|people|patients|adults|persons)\b[^.;()]*", re.I)


def _strength_spans(sentence: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"\([^()]*\)", sentence):
        if _STRENGTH_WORDS.search(m.group(0)):
            end = m.end()
            after = _AFTER_BRACKET.match(sentence, end)
            spans.append((m.start(), after.end() if after else end))
    return spans


def _outside_strength(sentence: str, thresholds: list) -> list:
    """The cut-offs that are not inside (or qualifying) a strength bracket."""
    spans = _strength_spans(sentence)
    if not spans:
        return thresholds
    out, pos = [], 0
    for t in thresholds:
        at = sentence.find(t.raw, pos) if t.raw else -1
        if at >= 0:
            pos = at + len(t.raw)
            if any(s <= at < e for s, e in spans):
                continue
        out.append(t)
    return out


def _strength_label(cor: str | None, grade: str | None, strength: dict) -> str | None:
    if strength.get("strength_label"):
        return strength["strength_label"]
    if cor:
        qualifier = strength.get("cor_qualifier")
        return f"Class {cor}" + (f": {qualifier}" if qualifier else "")
    if grade:
        return f"Grade {grade}"
    if strength.get("strength_word"):
        return f"{strength['strength_word'].capitalize()} recommendation"
    return None


def _drop_bullets(text: str, idx: list[int]) -> tuple[str, list[int]]:
    """A statement's own bullet list ("… standing: • review medication • …")
    reads as one sentence."""
    if "\u2022" not in text:
        return text, idx
    keep = [i for i, ch in enumerate(text) if not (ch == "\u2022" and (i + 1 >= len(text) or text[i + 1] == " "))]
    out = "".join(text[i] for i in keep)
    offsets = [idx[i] for i in keep]
    while "  " in out:
        at = out.index("  ")
        out, offsets = out[:at] + out[at + 1 :], offsets[:at] + offsets[at + 1 :]
    return out.strip(), offsets[len(out) - len(out.lstrip()) :][: len(out.strip())]


_ELSEWHERE_IMPERATIVE = re.compile(r"^Elsewhere\b[^,]{0,60},\s*(?:use|offer|consider)\b", re.I)

_STRENGTH_BRACKET_END = re.compile(
    r"\((?:strong|weak|conditional)\s+recommendation\b[^()]{0,80}\)\.?(?=\s+[A-Z])", re.I
)


def _cut_after_strength_bracket(text: str, idx: list[int]) -> tuple[str, list[int]]:
    """A formal statement ends at its strength bracket: "… mortality (strong
    recommendation; high-quality evidence). Treating to a lower target … did
    not …" — the remark after it is not part of the recommendation."""
    m = _STRENGTH_BRACKET_END.search(text)
    if not m:
        return text, idx
    return text[: m.end()], idx[: m.end()]


def _main_clause(body: str) -> str:
    """The sentence of a multi-sentence formal statement that carries its cue."""
    spans = sentences(body)
    for s, e in spans:
        if CUE.search(body[s:e]) or LEADING_CLAUSE_IMPERATIVE.match(body[s:e]):
            return tidy(body[s:e])
    return tidy(body[spans[0][0] : spans[0][1]]) if spans else body


def _insufficient(main: str, grade: str | None, cor: str | None) -> bool:
    """A statement that recommends neither for nor against: a USPSTF grade I
    (never ACC/AHA class I, which is a COR) or "the evidence is insufficient …",
    "no recommendation …" outside a subordinate clause."""
    if grade == "I" and not cor:
        return True
    return any(not in_condition(main, m.start()) for m in INSUFFICIENT.finditer(main))


def _insufficient_subject(main: str) -> str:
    """What the evidence is insufficient about, as the statement to parse:
    "Adults 76 years or older: … insufficient to assess the balance of benefits
    and harms of initiating a statin …" -> "Adults 76 years or older: initiating a statin …"."""
    m = BALANCE_OF.search(main)
    if not m:
        return main
    colon = main.rfind(": ", 0, m.start())
    what = m.group("what")
    return main[: colon + 2] + what[:1].upper() + what[1:] if colon > 0 else what


def _strength_to_previous(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A strength bracket opening a sentence ends the sentence before it."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        m = LEADING_STRENGTH_BRACKET.match(text[start:end])
        if out and m and parse_parenthetical(m.group(0).rstrip("."))[1]:
            out[-1] = (out[-1][0], start + m.end())
            start += m.end()
            while start < end and text[start] == " ":
                start += 1
            if start >= end:
                continue
        out.append((start, end))
    return out


def _dedupe(thresholds: list[Threshold]) -> list[Threshold]:
    seen, out = set(), []
    for t in thresholds:
        key = (t.measure.lower(), t.comparator, t.value, t.unit)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _strength_forward(text: str, units: list) -> None:
    """A labelled strength line ("Grade: B") under a line that recommends nothing
    (a population summary, a heading) grades the statement that follows it: the
    AHRQ ePSS prints the population, then the grade, then the statement."""
    for i, unit in enumerate(units):
        if not unit.strength_cells or unit.formal or CUE.search(text[unit.start : unit.end]):
            continue
        for nxt in units[i + 1 : i + 3]:
            if CUE.search(text[nxt.start : nxt.end]):
                if not nxt.strength_cells:
                    nxt.strength_cells, unit.strength_cells = unit.strength_cells, []
                break


def extract(content: str, deadline: float | None = None) -> list[Recommendation]:
    pre = before_clean(content)
    doc = repair(clean_document(pre.text))
    doc.index = [pre.index[i] for i in doc.index]  # offsets into the content as sent
    units = segment(doc.text)
    _strength_forward(doc.text, units)
    has_formal = any(u.formal for u in units)
    recs: list[Recommendation] = []
    for unit in units:
        _check_deadline(deadline)
        text, idx = clean_inline(doc.text[unit.start : unit.end], unit.start)
        if not text:
            continue
        idx = [doc.index[i] for i in idx]  # offsets into the original content
        text, idx = _drop_bullets(text, idx)
        text, idx = strip_label(text, idx)
        if unit.formal:
            text, idx = _cut_after_strength_bracket(text, idx)
        # NICE prints the review year after recommendations only: "Inform people … [2004]"
        nice_tagged = year_tagged(text)
        text, idx, unit_strength_found = unit_strength(text, idx, unit.strength_cells, unit.formal)
        # a formal statement is one recommendation however many sentences it has
        spans = [(0, len(text))] if unit.formal else _strength_to_previous(text, sentences(text))
        for s_start, s_end in spans:
            sentence = text[s_start:s_end].strip()
            s_start += len(text[s_start:s_end]) - len(text[s_start:s_end].lstrip())
            s_end = s_start + len(sentence)
            body, strength = parse_parenthetical(sentence)
            body = tidy(body)
            if len(body.split()) < (3 if unit.formal else 4) or body.endswith("?"):
                continue
            if (
                not unit.formal
                and not CUE.search(body)
                and not (nice_tagged and IMPERATIVE_HEAD.match(body))
                # "In Scotland, use the ASSIGN score": an imperative after a leading setting clause
                and not (LEADING_CLAUSE_IMPERATIVE.match(body) or _ELSEWHERE_IMPERATIVE.match(body))
            ):
                continue
            main = _main_clause(body) if unit.formal else body
            for key, value in unit_strength_found.items():
                strength.setdefault(key, value)
            cor = strength.get("cor") or strength.get("cell_cor")
            loe = strength.get("loe") or strength.get("cell_loe")
            grade = strength.get("grade")
            if not loe and strength.get("quality"):
                loe = f"{strength['quality']}-quality"
            label = _strength_label(cor, grade, strength)
            s_idx = idx[s_start:s_end]
            thresholds, caveats = refine(sentence, extract_thresholds(sentence, s_idx))
            thresholds, caveats = _outside_strength(sentence, thresholds), _outside_strength(sentence, caveats)
            if unit.row_grade and not grade:
                grade = unit.row_grade  # a summary table's grade column
                label = _strength_label(cor, grade, strength)
            insufficient = _insufficient(main, grade, cor)
            to_parse = _insufficient_subject(main) if insufficient else main
            if unit.population_span:
                # a summary-table row: the population column says who, its thresholds
                # are the row's; the statement's own are taken from its main clause only
                p_start, p_end = unit.population_span
                pop_text, pop_idx = clean_inline(doc.text[p_start:p_end], p_start)
                pop_idx = [doc.index[i] for i in pop_idx]
                pop_text = tidy(pop_text)
                if pop_text:
                    pop_thresholds, pop_caveats = refine(pop_text, extract_thresholds(pop_text, pop_idx[: len(pop_text)]))
                    for t in pop_thresholds if unit.row_measure else []:
                        # a bare cut-off cell of a risk-category table measures the column's risk
                        suffix = re.search(r"_\d+$", t.column or "")
                        base = unit.row_measure.replace(" ", "_").replace("-", "_")
                        t.measure, t.column = unit.row_measure, base + (suffix.group(0) if suffix else "")
                    thresholds = _dedupe(pop_thresholds + [t for t in thresholds if t.raw and t.raw in main])
                    caveats = pop_caveats + caveats
                    to_parse = f"{pop_text}: {to_parse[:1].upper()}{to_parse[1:]}"
            mark_exclusions(sentence, thresholds)
            alt_start, alternatives = assign_alternatives(sentence, thresholds)
            if alternatives and not sentence[alt_start:].lower().startswith("either"):
                # the list of alternatives is not one criterion joined to the others
                head = sentence[max(0, alt_start - 40) : alt_start]
                cut = to_parse.find(head) if head else -1
                if cut >= 0:
                    to_parse = re.sub(r"[\s,;]*\b(?:for|in|with|if|when)?\s*$", "", to_parse[: cut + len(head)], flags=re.I)
            logic = threshold_logic(sentence, thresholds)
            if logic == "any" and not alternatives:
                # "aged >=18 … initiate at SBP >=140 or DBP >=90 … goal <140": the "or"
                # joins the two starting cut-offs only; age stays required, goals are targets
                groups = or_groups(sentence, thresholds)
                grouped = {i for g in groups for i in g}
                others = [i for i, t in enumerate(thresholds) if i not in grouped and not t.excludes]
                if groups and others:
                    logic = "all"
                    for n, g in enumerate(groups):
                        for i in g:
                            thresholds[i].or_group = n
            parsed = parse_statement(to_parse, CUE.search(to_parse), thresholds + caveats)
            recs.append(
                Recommendation(
                    id=f"REC-{len(recs) + 1:03d}",
                    text=body,
                    section=unit.section,
                    strength=label,
                    class_of_recommendation=cor,
                    level_of_evidence=loe,
                    grade=grade,
                    population=parsed.population,
                    conditions=[c for c in parsed.conditions if not (alternatives and len(c) < 2)],
                    excluded_conditions=parsed.excluded_conditions,
                    criteria=parsed.criteria,
                    action=parsed.action,
                    negated=not insufficient
                    and (main_negated(main) or cor == "III" or "against" in (label or "").lower()),
                    thresholds=thresholds,
                    caveats=caveats,
                    threshold_logic=logic,
                    alternatives=alternatives,
                    span=(s_idx[0], s_idx[-1] + 1),
                    source_id=unit.source_id if unit.formal else None,
                    narrative=has_formal and not unit.formal,
                    insufficient_evidence=insufficient,
                )
            )
    return recs
