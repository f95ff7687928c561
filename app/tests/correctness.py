"""Correctness of each formal recommendation against its labelled facts:
polarity, population, conditions, thresholds and grade. Shared by the tests
and bench/quality.py (own fixtures and real published texts alike).

A label (one formal recommendation) in expected.json or bench/real_labels.json:

    {"id": "9.4b", "starts": "Insulin should be started", "grade": "E",
     "polarity": "+",                      # "-" for "do not", "against", …; "0" insufficient evidence
     "population": ["adults"],             # words the Given steps must name
     "conditions": ["catabolism"],         # words in one condition / criterion
     "excluded": ["overweight"],           # words in one excluded condition
     "thresholds": [["A1C", ">=", "10", "%"]]}

The grade is "grade", or "class" and "loe" (ACC/AHA), or "strength" (a
strength word such as "Strong for"); "grade": null expects no grade.
Thresholds are the ones the scenario's Examples use, compared as a set of
(measure, comparator, value, unit); caveats ("reduce the dose at eGFR <45")
must not be among them.
"""
from __future__ import annotations

import re

FIELDS = ("polarity", "population", "conditions", "thresholds", "grade")

_WS = re.compile(r"\s+")


def _norm(text: str | None) -> str:
    return _WS.sub(" ", (text or "").replace("\u2011", "-")).strip().lower()


def norm_unit(unit: str) -> str:
    """ "ml/min per 1.73 m²" and "mL/min/1.73 m2" are one unit."""
    u = _norm(unit).replace("\u00b2", "2").replace(" per ", "/").replace(" ", "")
    return u


def _threshold_key(t) -> tuple[str, str, str, str]:
    if isinstance(t, dict):
        t = (t["measure"], t["comparator"], t["value"], t["unit"])
    measure, comparator, value, unit = t
    return (_norm(measure), comparator, value.replace(" ", ""), norm_unit(unit))


def match(recs: list[dict], labels: list[dict]) -> list[tuple[dict, dict | None]]:
    """Each label with the formal recommendation of its number and opening words."""
    pool = [r for r in recs if not r.get("narrative")]
    out = []
    for label in labels:
        found = None
        for rec in pool:
            if rec["source_id"] == label["id"] and _norm(rec["text"]).startswith(_norm(label["starts"])):
                found = rec
                break
        if found is not None:
            pool.remove(found)
        out.append((label, found))
    return out


def grade_ok(rec: dict, label: dict) -> bool:
    if "class" in label:
        return (rec["class_of_recommendation"], rec["level_of_evidence"]) == (label["class"], label["loe"])
    if "strength" in label:
        return _norm(rec["strength"]) == _norm(label["strength"])
    return rec["grade"] == label.get("grade")


def _has_all(words: list[str], texts: list[str]) -> bool:
    """Every labelled word group appears inside one of the texts."""
    texts = [_norm(t) for t in texts]
    return all(any(_norm(w) in t for t in texts) for w in words)


def _polarity(rec: dict) -> str:
    """"0" for an insufficient-evidence statement (neither for nor against);
    a scenario without that flag is scored as recommending or not."""
    if rec.get("insufficient_evidence"):
        return "0"
    return "-" if rec["negated"] else "+"


def field_results(rec: dict | None, label: dict) -> dict[str, bool]:
    if rec is None:
        return {f: False for f in FIELDS}
    who = [rec["population"] or ""] + rec["conditions"] + rec["criteria"]
    positive = rec["conditions"] + rec["criteria"]
    excluded = label.get("excluded", [])
    conditions_ok = (
        _has_all(label.get("conditions", []), positive + [rec["population"] or ""])
        and _has_all(excluded, rec["excluded_conditions"])
        and not any(_has_all([w], positive) for w in excluded)
    )
    expected_t = sorted(_threshold_key(t) for t in label.get("thresholds", []))
    got_t = sorted(_threshold_key(t) for t in rec["thresholds"])
    return {
        "polarity": _polarity(rec) == label["polarity"],
        "population": _has_all(label.get("population", []), who),
        "conditions": conditions_ok,
        "thresholds": got_t == expected_t,
        "grade": grade_ok(rec, label),
    }


def score(result: dict, labels: list[dict]) -> dict:
    """Per field: how many labelled recommendations are right; and how many
    are right on every field (a recommendation not found is wrong on all)."""
    rows = []
    for label, rec in match(result["recommendations"], labels):
        fields = field_results(rec, label)
        rows.append({"id": label["id"], "found": rec is not None, "fields": fields, "rec": rec})
    n = len(rows)
    right = {f: sum(r["fields"][f] for r in rows) for f in FIELDS}
    full = sum(all(r["fields"].values()) for r in rows)
    return {
        "n": n,
        "found": sum(r["found"] for r in rows),
        "fully_right": full,
        "right": right,
        "wrong": [r for r in rows if not all(r["fields"].values())],
        "each": [all(r["fields"].values()) for r in rows],
    }


def describe(row: dict) -> str:
    """One line for a recommendation that is wrong somewhere."""
    bad = [f for f, ok in row["fields"].items() if not ok]
    rec = row["rec"]
    if rec is None:
        return f"{row['id']}: not found"
    got = {
        "polarity": _polarity(rec),
        "population": rec["population"],
        "conditions": rec["conditions"] + rec["criteria"] + [f"not {c}" for c in rec["excluded_conditions"]],
        "thresholds": [(t["measure"], t["comparator"], t["value"], t["unit"]) for t in rec["thresholds"]],
        "grade": rec["grade"] or rec["strength"] or (rec["class_of_recommendation"], rec["level_of_evidence"]),
    }
    return f"{row['id']}: wrong {', '.join(bad)}; got " + "; ".join(f"{f}={got[f]!r}" for f in bad)
