"""Guideline analysis: extraction + Gherkin generation + validation."""
from __future__ import annotations

import re
import time

from . import metrics
from .extractor import GenerationTimeout, Recommendation, extract, infer_specialty
from .gherkin_writer import parse, write_feature

__all__ = [
    "analyze", "GenerationTimeout", "HEALTH_GUIDELINE", "health_check", "normalise_specialty", "record_metrics",
    "strip_controls",
]

# Control characters are taken out of the text before any stage sees it: NUL,
# the other C0 controls but tab, newline, carriage return and form feed (line
# ends and the page break that PDF text and the clean stage rely on), DEL, the
# C1 controls, and the bidi embeddings, overrides and isolates (U+202A-202E,
# U+2066-2069) that could make a step read otherwise than it runs.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> tuple[str, list[int] | None, int]:
    """(text without control characters, offset in ``text`` of each kept
    character or None when nothing was removed, count removed). Linear."""
    if not _CONTROL.search(text):
        return text, None, 0
    kept: list[range] = []
    pos = removed = 0
    for m in _CONTROL.finditer(text):
        kept.append(range(pos, m.start()))
        pos = m.end()
        removed += 1
    kept.append(range(pos, len(text)))
    index = [i for r in kept for i in r]
    return "".join(text[r.start : r.stop] for r in kept), index, removed


def _remap_spans(recs: list[Recommendation], index: list[int], original_length: int) -> None:
    """Spans into the text without controls -> offsets into the content as sent."""

    def at(i: int) -> int:
        return index[i] if i < len(index) else original_length

    def span(s: tuple[int, int]) -> tuple[int, int]:
        start, end = s
        return (at(start), at(end - 1) + 1) if end > start else (at(start), at(start))

    for rec in recs:
        rec.span = span(rec.span)
        for t in list(rec.thresholds) + list(rec.caveats):
            t.span = span(t.span)

HEALTH_GUIDELINE = (
    "In adults with type 2 diabetes, metformin is recommended as initial therapy. A\n"
    "Aspirin should not be used for primary prevention in adults at low cardiovascular risk. B\n"
    "In adults with an A1C of 9% or higher, combination therapy should be considered. E\n"
)


def normalise_specialty(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = re.sub(r"[^a-z0-9]+", "-", value.strip().lower()).strip("-")
    return cleaned[:64] or None


def analyze(
    content: str,
    specialty: str | None = None,
    title: str | None = None,
    deadline: float | None = None,
    record_metrics: bool = True,
) -> dict:
    started = time.perf_counter()
    warnings = []
    original_length = len(content)
    content, index, removed = strip_controls(content)
    if removed:
        warnings.append(
            f"removed {removed} control character(s) from the content (NUL, bidi embedding/override/isolate "
            "or other C0/C1 controls)"
        )
    if title:
        title, _, removed_title = strip_controls(title)
        title = title.strip()
        if removed_title:
            warnings.append(f"removed {removed_title} control character(s) from the title")
    recs: list[Recommendation] = extract(content, deadline=deadline)
    if index is not None:
        _remap_spans(recs, index, original_length)
    spec = normalise_specialty(specialty) or infer_specialty(content)
    feature = write_feature(recs, spec, title)
    if deadline is not None and time.monotonic() > deadline:
        raise GenerationTimeout()
    # Official parser on every output: never return an invalid feature
    # (InvalidGherkin -> 500). Pickle compilation is left to the tests (cost).
    document = parse(feature, compile_pickles=False)
    scenarios = sum(1 for child in document["feature"]["children"] if "scenario" in child)
    elapsed = time.perf_counter() - started
    if record_metrics:
        metrics.GENERATION_DURATION.observe(elapsed)
        metrics.SCENARIOS_GENERATED.inc(scenarios)
    if not recs:
        warnings.append("no recommendation statements were found in the content")
    return {
        "title": title or None,
        "specialty": spec,
        "recommendation_count": len(recs),
        "scenario_count": scenarios,
        "recommendations": [r.to_dict() for r in recs],
        "feature": feature,
        "warnings": warnings,
        "generation_ms": round(elapsed * 1000, 3),
    }


def record_metrics(result: dict) -> None:
    """The metrics of an analysis run with record_metrics=False (in a child process)."""
    metrics.GENERATION_DURATION.observe(result["generation_ms"] / 1000)
    metrics.SCENARIOS_GENERATED.inc(result["scenario_count"])


def health_check() -> dict:
    """Run the generator on a tiny built-in guideline."""
    started = time.perf_counter()
    try:
        result = analyze(HEALTH_GUIDELINE, "diabetes", "health check", record_metrics=False)
        ok = result["scenario_count"] == 3 and result["recommendation_count"] == 3
        detail = None if ok else "unexpected scenario count"
    except Exception as exc:  # pragma: no cover - reported, never raised
        ok, detail = False, type(exc).__name__
    check = {"status": "pass" if ok else "fail", "duration_ms": round((time.perf_counter() - started) * 1000, 3)}
    if detail:
        check["detail"] = detail
    return check
