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

How the cut-offs combine is part of the thresholds field:

    ["LDL cholesterol", ">", "4.9", "mmol/L", "excluded"]   # an exclusion's cut-off:
                                           # the statement does NOT apply where it is met
    "any_of": [[0], [1, 2]]                # alternatives (OR of ANDs): indices into
                                           # thresholds (exclusions hold for every one)
    "combine": "any"                       # every qualifying cut-off is an alternative
                                           # by itself ("A1C ≥9% or BP ≥160/100")

Without either key every qualifying cut-off must hold (AND). Every Examples
row of the recommendation's scenarios is also checked against the label:
``examples_contradictions`` lists the rows whose outcome is the opposite of
what the label's cut-offs, combined as stated, give for that row's values.
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


def _threshold_key(t) -> tuple[str, str, str, str, bool]:
    if isinstance(t, dict):
        t = (t["measure"], t["comparator"], t["value"], t["unit"]) + (("excluded",) if t.get("excludes") else ())
    measure, comparator, value, unit = t[:4]
    excluded = len(t) > 4 and t[4] == "excluded"
    return (_norm(measure), comparator, value.replace(" ", ""), norm_unit(unit), excluded)


def label_groups(label: dict) -> set[frozenset]:
    """The label's alternatives: a set of groups (frozensets of threshold keys,
    qualifying cut-offs only), any one of which makes the statement apply."""
    keys = [_threshold_key(t) for t in label.get("thresholds", [])]
    qualifying = [i for i, k in enumerate(keys) if not k[4]]
    if "any_of" in label:
        return {frozenset(keys[i] for i in group) for group in label["any_of"]}
    if label.get("combine") == "any":
        return {frozenset([keys[i]]) for i in qualifying}
    return {frozenset(keys[i] for i in qualifying)} if qualifying else set()


def rec_groups(rec: dict) -> set[frozenset]:
    """The same for an extracted recommendation (alternatives, threshold_logic)."""
    ts = [t for t in rec["thresholds"] if not t.get("excludes")]
    common = [_threshold_key(t) for t in ts if not t.get("alternative")]
    labels = sorted({t["alternative"] for t in ts if t.get("alternative")})
    if labels:
        return {frozenset(common + [_threshold_key(t) for t in ts if t.get("alternative") == a]) for a in labels}
    if rec.get("threshold_logic") == "any":
        return {frozenset([_threshold_key(t)]) for t in ts}
    return {frozenset(_threshold_key(t) for t in ts)} if ts else set()


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
        "thresholds": got_t == expected_t and rec_groups(rec) == label_groups(label),
        "grade": grade_ok(rec, label),
    }


def score(result: dict, labels: list[dict]) -> dict:
    """Per field: how many labelled recommendations are right; and how many
    are right on every field (a recommendation not found is wrong on all)."""
    rows = []
    for label, rec in match(result["recommendations"], labels):
        fields = field_results(rec, label)
        rows.append({"id": label["id"], "found": rec is not None, "fields": fields, "rec": rec})
        if rec is not None and result.get("feature"):
            rows[-1]["contradictions"] = examples_contradictions(result["feature"], rec, label)
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
        # Examples rows whose outcome is the opposite of the guideline's (label's)
        "contradictions": [c for r in rows for c in r.get("contradictions", [])],
    }


# --------------------------------------------------------------------------
# Examples rows against the label


def _sat(comparator: str, ref: str, value: str) -> bool:
    from decimal import Decimal

    if comparator == "between":
        lo, hi = (Decimal(v) for v in ref.split("-"))
        return lo <= Decimal(value) <= hi
    refs = [Decimal(p) for p in ref.split("/")]
    xs = [Decimal(p) for p in value.split("/")]
    ops = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}
    results = [ops[comparator](x, r) for x, r in zip(xs, refs)]
    return any(results) if comparator in (">=", ">") else all(results)


def _scenarios_of(feature: str, rec_id: str) -> list[dict]:
    from gherkin.parser import Parser

    doc = Parser().parse(feature)
    want = "@" + rec_id
    out = []
    for child in doc["feature"]["children"]:
        sc = child.get("scenario")
        if not sc:
            continue
        names = [t["name"] for t in sc["tags"]]
        if want in names or any(n.startswith(want + "-alternative-") for n in names):
            out.append(sc)
    return out


def examples_contradictions(feature: str, rec: dict, label: dict) -> list[str]:
    """Examples rows of the recommendation whose outcome contradicts the label.

    Each row's values are given to the label's cut-offs, matched to the
    scenario's columns by measure and unit (so an inverted comparator is still
    judged against the guideline's own cut-off), combined as the label says;
    a row is counted only when the label decides it (every cut-off of some
    deciding alternative has a value in the row, or the scenario states the
    other alternatives are not met; with no alternatives, a cut-off the
    scenario never varies is taken as met)."""
    if not label.get("thresholds"):
        return []
    keys = [_threshold_key(t) for t in label["thresholds"]]
    exact = {_threshold_key(t)[:4]: t["column"] for t in rec["thresholds"]}
    same: dict[tuple[str, str], list[str]] = {}
    for t in rec["thresholds"]:
        same.setdefault((_norm(t["measure"]), norm_unit(t["unit"])), []).append(t["column"])
    groups = [list(g) for g in label.get("any_of", [])]
    qualifying = [i for i, k in enumerate(keys) if not k[4]]
    if not groups:
        groups = [[i] for i in qualifying] if label.get("combine") == "any" else [qualifying]
    excl = [i for i, k in enumerate(keys) if k[4]]
    negative = label["polarity"] == "-"
    out = []
    for sc in _scenarios_of(feature, rec["id"]):
        others_not_met = any("any other listed alternative" in s["text"] for s in sc["steps"])
        for ex in sc.get("examples", []):
            header = [c["value"] for c in ex["tableHeader"]["cells"]]
            for row in ex["tableBody"]:
                cells = dict(zip(header, [c["value"] for c in row["cells"]]))

                def value(i):
                    k = keys[i]
                    # the column of the same cut-off, else the one column of its measure
                    col = exact.get(k[:4])
                    if col not in cells:
                        cand = [c for c in same.get((k[0], k[3]), []) if c in cells]
                        col = cand[0] if len(cand) == 1 else None
                    if col not in cells:
                        # the same cut-off under another measure name ("value >=10%" for a 10-year risk)
                        cand = [c for key, c in exact.items() if key[1:] == k[1:4] and c in cells]
                        col = cand[0] if len(cand) == 1 else None
                    v = cells.get(col) if col else None
                    if v is None:
                        return None
                    try:
                        return _sat(k[1], k[2], v)
                    except Exception:
                        return None

                excluded = [value(i) for i in excl]
                if any(e is True for e in excluded):
                    truth = False
                else:
                    vals = [[value(i) for i in g] for g in groups]
                    if len(vals) == 1:
                        # one AND group: a cut-off the scenario never varies is taken as met
                        # (missing it is the thresholds field's failure, not the row's)
                        vals = [[True if v is None else v for v in vals[0]]]
                    met = [all(v is True for v in g) for g in vals if g]
                    unknown = [g for g in vals if g and None in g and False not in g]
                    if any(met):
                        truth = None if None in excluded else True
                    elif unknown and not others_not_met:
                        truth = None
                    else:
                        truth = None if None in excluded else False
                if truth is None:
                    continue
                outcome = cells.get("outcome", "")
                if outcome in ("at goal", "not at goal"):
                    says = outcome == "at goal"
                elif negative:
                    says = outcome == "should not recommend"
                elif outcome.startswith("should make no recommendation"):
                    says = True
                elif outcome == "should not apply this statement to":
                    says = False
                else:
                    says = outcome == "should recommend"
                if says != truth:
                    out.append(f"{rec['id']} {sc['name'][:40]!r} row {cells}: says {outcome!r}")
    return out


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
