"""Write extracted recommendations as a Gherkin feature.

One scenario per recommendation. A recommendation with numeric thresholds
becomes a Scenario Outline whose Examples sit just below, at and just above
each cut-off (both bounds for a range), so every rule has positive and
negative cases. Output is validated with the official Gherkin parser.
"""
from __future__ import annotations

import re
from decimal import Decimal

from gherkin.parser import Parser
from gherkin.pickles.compiler import Compiler

from .extractor import Recommendation, Threshold

INDENT = "  "
DEFAULT_TITLE = "Clinical guideline recommendations"


class InvalidGherkin(Exception):
    pass


# --------------------------------------------------------------------------
# text helpers


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _quoted(text: str) -> str:
    return '"' + _one_line(text).replace('"', "'") + '"'


def tag(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "-", value).strip("-")
    return "@" + (cleaned or "untagged")


def _cell(value: str) -> str:
    return _one_line(value).replace("\\", "\\\\").replace("|", "\\|")


def _truncate(text: str, limit: int = 90) -> str:
    text = _one_line(text)
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 40 else limit].rstrip(" ,;:") + " …"


# --------------------------------------------------------------------------
# threshold arithmetic (Decimal, so 7.0 - 0.1 is exactly 6.9)

_STEP_ONE_UNITS = {"years", "percentile", "months"}


def _step(num: str, unit: str) -> Decimal:
    if "." in num:
        return Decimal(1).scaleb(-len(num.split(".", 1)[1]))
    if unit not in _STEP_ONE_UNITS and Decimal(num) < 20:
        return Decimal("0.1")
    return Decimal(1)


def _fmt(value: Decimal, step: Decimal) -> str:
    return str(value.quantize(step)) if step < 1 else str(value.quantize(Decimal(1)))


def _parts(value: str) -> list[str]:
    return value.split("/")


def _points(t: Threshold) -> list[tuple[str, str]]:
    """(case label, value) examples for one threshold."""
    if t.comparator == "between":
        lo, hi = t.value.split("-")
        s_lo, s_hi = _step(lo, t.unit), _step(hi, t.unit)
        return [
            ("below lower bound", _fmt(Decimal(lo) - s_lo, s_lo)),
            ("at lower bound", _fmt(Decimal(lo), s_lo)),
            ("at upper bound", _fmt(Decimal(hi), s_hi)),
            ("above upper bound", _fmt(Decimal(hi) + s_hi, s_hi)),
        ]
    parts = _parts(t.value)
    steps = [_step(p, t.unit) for p in parts]

    def shifted(delta: int) -> str:
        return "/".join(_fmt(Decimal(p) + delta * s, s) for p, s in zip(parts, steps))

    return [("just below cut-off", shifted(-1)), ("at cut-off", shifted(0)), ("just above cut-off", shifted(1))]


def _cmp(x: Decimal, op: str, ref: Decimal) -> bool:
    return {">=": x >= ref, ">": x > ref, "<=": x <= ref, "<": x < ref}[op]


def satisfied(t: Threshold, value: str) -> bool:
    if t.comparator == "between":
        lo, hi = (Decimal(v) for v in t.value.split("-"))
        return lo <= Decimal(value) <= hi
    refs = [Decimal(p) for p in _parts(t.value)]
    xs = [Decimal(p) for p in value.split("/")]
    results = [_cmp(x, t.comparator, r) for x, r in zip(xs, refs)]
    # blood pressure "≥130/80": either component; "<130/80": both components
    return any(results) if t.comparator in (">=", ">") else all(results)


def applies(t: Threshold, value: str) -> bool:
    """Whether the value lets the statement apply as far as this cut-off goes:
    met for a qualifying cut-off, NOT met for an exclusion's ("unless eGFR <30")."""
    return satisfied(t, value) != t.excludes


def _baseline(t: Threshold, want: bool = True) -> str:
    """A value that lets the statement apply (want=True) or not, used while
    another threshold varies: applying for "all" logic, not for "any"; an
    exclusion's cut-off is always held where it does not exclude."""
    if t.excludes:
        want = True
    for _, value in _points(t):
        if applies(t, value) == want:
            return value
    return _points(t)[1][1]


# --------------------------------------------------------------------------
# scenario building


def _given_steps(rec: Recommendation) -> list[str]:
    steps: list[str] = []
    if rec.population:
        steps.append(f"the patient belongs to the population {_quoted(rec.population)}")
    else:
        steps.append("a patient record is available to the CDS system")
    steps += [f"the patient has {_quoted(c)}" for c in rec.conditions]
    steps += [f"the patient does not have {_quoted(c)}" for c in rec.excluded_conditions]
    steps += [f"the patient meets the criterion {_quoted(c)}" for c in rec.criteria]
    return steps


def _measure_step(t: Threshold) -> str:
    unit = "" if t.unit in ("", "percentile") else f" {t.unit}"
    return f"the patient's {t.measure} is <{t.column}>{unit}"


def _tags(rec: Recommendation, specialty: str, outline: bool) -> list[str]:
    tags = [tag(rec.id)]
    if rec.source_id:
        tags.append(tag(f"rec-{rec.source_id}"))
    if rec.narrative:
        tags.append("@narrative")
    if rec.grade:
        tags.append(tag(f"grade-{rec.grade}"))
    if rec.class_of_recommendation:
        tags.append(tag(f"class-{rec.class_of_recommendation}"))
    if rec.level_of_evidence:
        tags.append(tag(f"loe-{rec.level_of_evidence}"))
    if rec.strength and not (rec.grade or rec.class_of_recommendation):
        tags.append(tag("strength-" + rec.strength.split()[0].lower()))
    tags.append(tag(f"specialty-{specialty}"))
    if rec.insufficient_evidence:
        tags.append("@insufficient-evidence")
    elif rec.negated:
        tags.append("@negative")
    if outline:
        tags.append("@threshold")
    return tags


def _label(rec: Recommendation) -> str:
    """ "[9.2, grade A] ", "[3, class IIa, LOE B-R] ", "[narrative] " or ""."""
    parts = [rec.source_id] if rec.source_id else []
    if rec.grade:
        parts.append(f"grade {rec.grade}")
    if rec.class_of_recommendation:
        parts.append(f"class {rec.class_of_recommendation}")
    if rec.level_of_evidence:
        parts.append(f"LOE {rec.level_of_evidence}")
    if rec.narrative:
        parts.append("narrative")
    return f"[{', '.join(_one_line(p) for p in parts)}] " if parts else ""


def _measure_key(t: Threshold) -> tuple[str, str]:
    return (t.measure.lower(), t.unit)


def _alternative_recs(rec: Recommendation) -> list[tuple[str, Recommendation]]:
    """An OR of ANDs ("for any of: a) … b) …") as one recommendation per
    alternative: its own cut-offs (joined with AND) and those that hold for
    every alternative (exclusions, the population's), the alternative's text
    as a criterion when it has no cut-off, and — when rows may fail — the
    other alternatives stated as not met, so no row contradicts the guideline."""
    import dataclasses

    out = []
    labels = [a.split(")", 1)[0] for a in rec.alternatives]
    for label, text in zip(labels, rec.alternatives):
        own = [t for t in rec.thresholds if t.alternative in (None, label)]
        criteria = list(rec.criteria)
        if not any(t.alternative == label for t in rec.thresholds):
            criteria.append(text.split(")", 1)[1].strip())
        excluded = list(rec.excluded_conditions)
        measured = {_measure_key(t) for t in own}
        also, others = [], []
        for other in labels:
            if other == label:
                continue
            group = [t for t in rec.thresholds if t.alternative == other]
            if group and all(_measure_key(t) in measured for t in group):
                also.append(group)  # decided by the row's own values
            else:
                others.append(other)
        if own and others:
            excluded.append(f"any other listed alternative ({', '.join(others)})")
        alt = dataclasses.replace(
            rec,
            id=f"{rec.id} (alternative {label})",
            thresholds=own,
            criteria=criteria,
            excluded_conditions=excluded,
            alternatives=[],
            threshold_logic="all",
        )
        alt._also = also
        out.append((label, alt))
    return out


def scenario_lines(rec: Recommendation, specialty: str) -> list[str]:
    if rec.alternatives and any(t.alternative for t in rec.thresholds):
        lines: list[str] = []
        for label, alt in _alternative_recs(rec):
            if lines:
                lines.append("")
            lines += scenario_lines(alt, specialty)
        return lines
    outline = bool(rec.thresholds)
    insufficient = rec.insufficient_evidence
    verb = "No recommendation" if insufficient else "Do not recommend" if rec.negated else "Recommend"
    title = f"{rec.id} {_label(rec)}{verb}: {_truncate(rec.action)}"
    lines = [INDENT + " ".join(_tags(rec, specialty, outline))]
    lines.append(INDENT + ("Scenario Outline: " if outline else "Scenario: ") + title)
    step = INDENT * 2
    givens = _given_steps(rec)
    lines.append(step + "Given " + givens[0])
    lines += [step + "And " + g for g in givens[1:]]
    action = _quoted(rec.action)
    if not outline:
        lines.append(step + "When the CDS system evaluates the patient's record")
        if insufficient:
            # the evidence is insufficient: neither recommend nor recommend against
            lines.append(step + f"Then the CDS system should make no recommendation for or against {action}")
        elif rec.negated:
            lines.append(step + f"Then the CDS system should not recommend {action}")
        else:
            lines.append(step + f"Then the CDS system should recommend {action}")
        return lines

    target_mode = not (rec.negated or insufficient) and all(t.kind == "target" for t in rec.thresholds)
    whens = [_measure_step(t) for t in rec.thresholds]
    lines.append(step + "When " + whens[0])
    lines += [step + "And " + w for w in whens[1:]]
    if target_mode:
        lines.append(step + "Then the CDS system should report the patient as <outcome>")
        yes, no = "at goal", "not at goal"
    elif insufficient:
        lines.append(step + f"Then the CDS system <outcome> {action}")
        yes, no = "should make no recommendation for or against", "should not apply this statement to"
    elif rec.negated:
        lines.append(step + f"Then the CDS system <outcome> {action}")
        yes, no = "should not recommend", "should not block"
    else:
        lines.append(step + f"Then the CDS system <outcome> {action}")
        yes, no = "should recommend", "should not recommend"

    header = ["case"] + [t.column for t in rec.thresholds] + ["outcome"]
    rows: list[list[str]] = []
    seen: dict[tuple[str, ...], int] = {}
    any_mode = rec.threshold_logic == "any"
    combine = any if any_mode else all
    grouped = not any_mode and any(t.or_group is not None for t in rec.thresholds)
    baselines = [_baseline(t, want=not any_mode) for t in rec.thresholds]
    # a goal never joins an "or" group: it is held like every other statement's goal
    qualifying = [not t.excludes for t in rec.thresholds]

    def _qualifies(pairs) -> bool:
        if not grouped:
            return combine(applies(tt, v) for (tt, v), q in zip(pairs, qualifying) if q) if any(qualifying) else True
        alone = all(applies(tt, v) for (tt, v), q in zip(pairs, qualifying) if q and tt.or_group is None)
        groups: dict[int, bool] = {}
        for (tt, v), q in zip(pairs, qualifying):
            if q and tt.or_group is not None:
                groups[tt.or_group] = groups.get(tt.or_group, False) or applies(tt, v)
        return alone and all(groups.values())

    for i, t in enumerate(rec.thresholds):
        row_base = list(baselines)
        if grouped and t.or_group is not None:
            # the other members of its "or" group are held unmet, so the row shows this cut-off
            for j, tt in enumerate(rec.thresholds):
                if j != i and tt.or_group == t.or_group:
                    row_base[j] = _baseline(tt, want=False)
        for label, value in _points(t):
            values = list(row_base)
            values[i] = value
            pairs = list(zip(rec.thresholds, values))
            met = all(applies(tt, v) for tt, v in pairs if tt.excludes) and _qualifies(pairs)
            if not met and getattr(rec, "_also", None) and all(applies(tt, v) for tt, v in pairs if tt.excludes):
                # another alternative met by the same values ("eGFR 44" meets "a) eGFR 20–45")
                by_measure = {_measure_key(tt): v for tt, v in pairs}
                met = any(all(applies(g, by_measure[_measure_key(g)]) for g in group) for group in rec._also)
            case = label if len(rec.thresholds) == 1 else f"{t.column} {label}"
            if t.excludes:
                case += " (exclusion)"
            key = tuple(values)
            if key in seen:  # same values as an earlier row: one row, both labels
                rows[seen[key]][0] += f" / {case}"
                continue
            seen[key] = len(rows)
            rows.append([case] + values + [yes if met else no])
    lines.append("")
    lines.append(step + "Examples:")
    table = [header] + rows
    widths = [max(len(_cell(r[c])) for r in table) for c in range(len(header))]
    for r in table:
        cells = " | ".join(_cell(v).ljust(w) for v, w in zip(r, widths))
        lines.append(INDENT * 3 + "| " + cells + " |")
    return lines


def write_feature(recs: list[Recommendation], specialty: str, title: str | None = None) -> str:
    name = _truncate(title or DEFAULT_TITLE, 200) or DEFAULT_TITLE
    lines = [f"@clinical-bdd {tag('specialty-' + specialty)}", f"Feature: {name}"]
    lines.append(
        INDENT + f"Executable checks for {len(recs)} recommendation(s) extracted from the guideline text."
    )
    lines.append(INDENT + "Thresholds are exercised just below, at and just above each cut-off.")
    for rec in recs:
        lines.append("")
        lines.extend(scenario_lines(rec, specialty))
    return "\n".join(lines) + "\n"


def parse(feature: str, compile_pickles: bool = True) -> dict:
    """Parse with the official Gherkin parser (and by default compile the
    pickles a runner would execute); raise InvalidGherkin on any error.
    Returns the gherkin document."""
    try:
        document = Parser().parse(feature)
        if compile_pickles:
            document["uri"] = "generated.feature"
            Compiler().compile(document)
    except Exception as exc:  # gherkin raises CompositeParserException etc.
        raise InvalidGherkin(str(exc)) from exc
    return document
