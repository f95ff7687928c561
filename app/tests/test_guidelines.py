"""Gherkin validity and content on every guideline passage in tests/guidelines/."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from gherkin.pickles.compiler import Compiler

from conftest import GUIDELINES, parse_feature

EXPECTED = json.loads((Path(__file__).parent / "guidelines" / "expected.json").read_text(encoding="utf-8"))

POSITIVE = {"should recommend", "at goal"}
NEGATIVE = {"should not recommend", "not at goal", "should not block"}


def test_at_least_ten_passages_across_specialties():
    assert len(GUIDELINES) >= 10
    assert set(EXPECTED) == {p.name for p in GUIDELINES}
    specialties = {e["specialty"] for e in EXPECTED.values()}
    assert {"diabetes", "hypertension", "lipids", "cardiology", "nephrology", "pediatrics"} <= specialties
    text = "\n".join(p.read_text(encoding="utf-8") for p in GUIDELINES)
    for phrase in ("should not", "is not recommended", "≥", "<", "mm Hg", " and "):
        assert phrase in text


@pytest.fixture(scope="module")
def results(app):
    client = app.test_client()
    out = {}
    for path in GUIDELINES:
        r = client.post("/api/v1/analyze", json={"content": path.read_text(encoding="utf-8"), "title": path.stem})
        assert r.status_code == 200, r.get_data(as_text=True)
        out[path.name] = r.get_json()
    return out


def scenarios_by_rec(document: dict) -> dict[str, dict]:
    found = {}
    for child in document["feature"]["children"]:
        scenario = child["scenario"]
        rec_tags = [t["name"][1:] for t in scenario["tags"] if t["name"].startswith("@REC-")]
        assert len(rec_tags) == 1, scenario["name"]
        found[rec_tags[0]] = scenario
    return found


def then_steps(scenario: dict) -> list[str]:
    texts, in_then = [], False
    for step in scenario["steps"]:
        if step["keyword"].strip() == "Then":
            in_then = True
        elif step["keyword"].strip() not in ("And", "But"):
            in_then = False
        if in_then:
            texts.append(step["text"])
    return texts


def example_rows(scenario: dict) -> list[dict]:
    rows = []
    for examples in scenario["examples"]:
        header = [c["value"] for c in examples["tableHeader"]["cells"]]
        for row in examples["tableBody"]:
            rows.append(dict(zip(header, (c["value"] for c in row["cells"]))))
    return rows


@pytest.mark.parametrize("name", [p.name for p in GUIDELINES])
def test_passage_feature(results, name):
    body = results[name]
    expected = EXPECTED[name]
    document = parse_feature(body["feature"])  # official parser; raises on invalid Gherkin
    recs = {r["id"]: r for r in body["recommendations"]}

    # one scenario per recommendation
    assert body["recommendation_count"] == expected["recommendations"] == len(recs)
    assert body["scenario_count"] == len(document["feature"]["children"]) == len(recs)
    assert body["specialty"] == expected["specialty"]
    scenarios = scenarios_by_rec(document)
    assert set(scenarios) == set(recs)

    # negations as expected, asserted as NOT recommended
    assert sorted(r for r, rec in recs.items() if rec["negated"]) == expected["negated"]
    # thresholds as expected
    got = {
        r: [f"{t['measure']} {t['comparator']} {t['value']} {t['unit']}".strip() for t in rec["thresholds"]]
        for r, rec in recs.items()
        if rec["thresholds"]
    }
    assert got == expected["outlines"]

    pickles = Compiler().compile({**document, "uri": name})
    expected_pickles = 0
    for rid, rec in recs.items():
        scenario = scenarios[rid]
        tags = {t["name"] for t in scenario["tags"]}
        assert f"@specialty-{body['specialty']}" in tags
        if rec["grade"]:
            assert f"@grade-{rec['grade']}" in tags
        if rec["class_of_recommendation"]:
            assert f"@class-{rec['class_of_recommendation']}" in tags
            assert f"@loe-{rec['level_of_evidence']}" in tags
        assert rec["grade"] or rec["class_of_recommendation"], f"{name} {rid} has no strength"
        thens = then_steps(scenario)
        assert thens, scenario["name"]

        # compound conditions become several Given/And steps
        has_steps = [s for s in scenario["steps"] if s["text"].startswith("the patient has ")]
        assert len(has_steps) == len(rec["conditions"])
        for cond in rec["conditions"]:
            assert any(f'"{cond}"' in s["text"] for s in has_steps)

        # the recommendation's span points at its text in the passage
        source = (Path(__file__).parent / "guidelines" / name).read_text(encoding="utf-8")
        snippet = source[rec["span"]["start"] : rec["span"]["end"]]
        assert snippet.split()[0].strip("*") == rec["text"].split()[0]

        if not rec["thresholds"]:
            assert scenario["keyword"] == "Scenario"
            expected_pickles += 1
            if rec["negated"]:
                assert any(t.startswith("the CDS system should not recommend") for t in thens)
                assert "@negative" in tags
            else:
                assert any(t.startswith("the CDS system should recommend") for t in thens)
            continue

        # threshold: Scenario Outline with examples at / just below / just above each cut-off
        assert scenario["keyword"] == "Scenario Outline"
        assert "@threshold" in tags
        rows = example_rows(scenario)
        expected_pickles += len(rows)
        outcomes = {row["outcome"] for row in rows}
        assert outcomes & POSITIVE or (rec["negated"] and "should not recommend" in outcomes)
        assert outcomes & NEGATIVE
        assert len(outcomes) == 2, outcomes  # positive and negative cases
        if rec["negated"]:
            assert "should not recommend" in outcomes
            assert "@negative" in tags
        for t in rec["thresholds"]:
            column = t["column"]
            assert any(f"<{column}>" in s["text"] for s in scenario["steps"])
            values = [row[column] for row in rows]
            if t["comparator"] == "between":
                lo, hi = (Decimal(v) for v in t["value"].split("-"))
                nums = [Decimal(v) for v in values]
                assert lo in nums and hi in nums
                assert any(n < lo for n in nums) and any(n > hi for n in nums)
                continue
            first = lambda v: Decimal(v.split("/")[0])  # noqa: E731
            cut = first(t["value"])
            nums = {first(v) for v in values}
            assert cut in nums, (column, values)
            assert any(n < cut for n in nums) and any(n > cut for n in nums)
            if len(rec["thresholds"]) == 1:
                at = next(row for row in rows if row["case"] == "at cut-off")
                inclusive = t["comparator"] in (">=", "<=")
                positive_outcome = (at["outcome"] in POSITIVE) or (rec["negated"] and at["outcome"] == "should not recommend")
                assert positive_outcome == inclusive, (rid, t, at)
    assert len(pickles) == expected_pickles


@pytest.mark.parametrize("name", [p.name for p in GUIDELINES])
def test_passage_plain_gherkin_and_determinism(app, results, name):
    content = (Path(__file__).parent / "guidelines" / name).read_text(encoding="utf-8")
    client = app.test_client()
    first = client.post("/api/v1/analyze", json={"content": content, "title": Path(name).stem}, headers={"Accept": "text/x-gherkin"})
    second = client.post("/api/v1/analyze", json={"content": content, "title": Path(name).stem}, headers={"Accept": "text/x-gherkin"})
    assert first.status_code == second.status_code == 200
    assert first.mimetype == "text/x-gherkin"
    assert first.data == second.data
    assert first.get_data(as_text=True) == results[name]["feature"]
    parse_feature(first.get_data(as_text=True))
    again = client.post("/api/v1/analyze", json={"content": content, "title": Path(name).stem}).get_json()
    for key in ("request_id", "generation_ms"):
        again.pop(key)
        results[name].get(key)
    baseline = {k: v for k, v in results[name].items() if k not in ("request_id", "generation_ms")}
    assert again == baseline


def test_all_passages_concatenated_parse(app):
    content = "\n\n".join(p.read_text(encoding="utf-8") for p in GUIDELINES)
    body = app.test_client().post("/api/v1/analyze", json={"content": content}).get_json()
    assert body["recommendation_count"] == sum(e["recommendations"] for e in EXPECTED.values())
    document = parse_feature(body["feature"])
    ids = [c["scenario"]["name"].split()[0] for c in document["feature"]["children"]]
    assert len(ids) == len(set(ids)) == body["recommendation_count"]
