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

import time

from .classify import CUE, LEADING_CLAUSE_IMPERATIVE, parse_parenthetical, sentences, strip_label, unit_strength
from .clean import clean_document, clean_inline
from .negation import main_negated
from .model import GenerationTimeout, Recommendation, Threshold
from .parse import parse_statement, tidy
from .repair import before_clean, repair
from .segment import segment
from .specialty import infer_specialty
from .thresholds import extract_thresholds, refine, threshold_logic

__all__ = ["extract", "GenerationTimeout", "infer_specialty", "Recommendation", "Threshold"]


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise GenerationTimeout()


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


def _main_clause(body: str) -> str:
    """The sentence of a multi-sentence formal statement that carries its cue."""
    spans = sentences(body)
    for s, e in spans:
        if CUE.search(body[s:e]) or LEADING_CLAUSE_IMPERATIVE.match(body[s:e]):
            return tidy(body[s:e])
    return tidy(body[spans[0][0] : spans[0][1]]) if spans else body


def extract(content: str, deadline: float | None = None) -> list[Recommendation]:
    pre = before_clean(content)
    doc = repair(clean_document(pre.text))
    doc.index = [pre.index[i] for i in doc.index]  # offsets into the content as sent
    units = segment(doc.text)
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
        text, idx, unit_strength_found = unit_strength(text, idx, unit.strength_cells, unit.formal)
        # a formal statement is one recommendation however many sentences it has
        spans = [(0, len(text))] if unit.formal else sentences(text)
        for s_start, s_end in spans:
            sentence = text[s_start:s_end].strip()
            s_start += len(text[s_start:s_end]) - len(text[s_start:s_end].lstrip())
            s_end = s_start + len(sentence)
            body, strength = parse_parenthetical(sentence)
            body = tidy(body)
            if len(body.split()) < (3 if unit.formal else 4) or body.endswith("?"):
                continue
            if not unit.formal and not CUE.search(body):
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
            parsed = parse_statement(main, CUE.search(main), thresholds + caveats)
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
                    conditions=parsed.conditions,
                    excluded_conditions=parsed.excluded_conditions,
                    criteria=parsed.criteria,
                    action=parsed.action,
                    negated=main_negated(main) or cor == "III" or "against" in (label or "").lower(),
                    thresholds=thresholds,
                    caveats=caveats,
                    threshold_logic=threshold_logic(sentence, thresholds),
                    span=(s_idx[0], s_idx[-1] + 1),
                    source_id=unit.source_id if unit.formal else None,
                    narrative=has_formal and not unit.formal,
                )
            )
    return recs
