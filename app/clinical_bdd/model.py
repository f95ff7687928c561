"""Data model of extracted recommendations."""
from __future__ import annotations

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
    kind: str  # "condition" (who the rule applies to), "target" (a goal) or "caveat"
    raw: str
    span: tuple[int, int]
    # the same cut-off in other units: "A1C >10% [>86 mmol/mol]" -> [{"value": "86", "unit": "mmol/mol"}]
    alternates: list[dict] = field(default_factory=list)
    # an exclusion's cut-off ("except in people with LDL-C >4.9 mmol/L", "unless eGFR <30"):
    # the statement does NOT apply where it is met
    excludes: bool = False
    # the alternative qualifying criterion it belongs to ("a", "b", …), None when it applies to all
    alternative: str | None = None
    # neighbouring cut-offs joined by "or" share a group number (any one of them
    # qualifies); None when the cut-off is required on its own
    or_group: int | None = None

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in _THRESHOLD_FIELDS}
        d["alternates"] = [dict(a) for a in self.alternates]
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
    # cut-offs that qualify the action but do not decide who it applies to:
    # "reduce the dose at an eGFR <45", "such as adults younger than 50 years"
    caveats: list[Threshold] = field(default_factory=list)
    threshold_logic: str = "all"  # "any" when thresholds are joined by "or"
    # alternative qualifying criteria ("for any of: a) … b) …"): an OR of ANDs; each
    # threshold's `alternative` says which one it belongs to
    alternatives: list[str] = field(default_factory=list)
    span: tuple[int, int] = (0, 0)
    source_id: str | None = None  # the guideline's own number: "9.2", "1.3.1", "PP 2.1"
    narrative: bool = False  # outside the guideline's formal recommendations
    # the evidence is insufficient to recommend for or against (USPSTF I statement,
    # "no recommendation"): neither a positive nor a negative rule
    insufficient_evidence: bool = False

    @property
    def polarity(self) -> str:
        if self.insufficient_evidence:
            return "insufficient_evidence"
        return "do_not_recommend" if self.negated else "recommend"

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in _RECOMMENDATION_FIELDS}
        d["polarity"] = self.polarity
        d["conditions"] = list(self.conditions)
        d["excluded_conditions"] = list(self.excluded_conditions)
        d["criteria"] = list(self.criteria)
        d["alternatives"] = list(self.alternatives)
        d["thresholds"] = [t.to_dict() for t in self.thresholds]
        d["caveats"] = [t.to_dict() for t in self.caveats]
        d["span"] = {"start": self.span[0], "end": self.span[1]}
        return d


_THRESHOLD_FIELDS = [f.name for f in fields(Threshold) if f.name != "or_group"]
_RECOMMENDATION_FIELDS = [f.name for f in fields(Recommendation)]
