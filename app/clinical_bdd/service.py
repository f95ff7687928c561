"""Guideline analysis: extraction + Gherkin generation + validation."""
from __future__ import annotations

import re
import time

from . import metrics
from .extractor import GenerationTimeout, Recommendation, extract, infer_specialty
from .gherkin_writer import parse, write_feature

__all__ = ["analyze", "GenerationTimeout", "HEALTH_GUIDELINE", "health_check", "normalise_specialty"]

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
    recs: list[Recommendation] = extract(content, deadline=deadline)
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
    warnings = []
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
