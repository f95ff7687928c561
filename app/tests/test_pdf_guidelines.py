"""Guidelines as extracted from PDF (tests/guidelines/pdf/): the formal,
numbered and graded recommendations are found with their numbers and grades,
narrative statements are marked, no extraction artifact reaches the output,
and every feature parses with the official Gherkin parser."""
from __future__ import annotations

import re
import unicodedata

import pytest
from gherkin.pickles.compiler import Compiler

from clinical_bdd.service import analyze
from conftest import parse_feature
from pdf_fixtures import ARTIFACTS, EXPECTED, artifacts, build_chapter, cases, fixture_text, score

CASES = cases()


@pytest.fixture(scope="module")
def results():
    return {name: analyze(content, record_metrics=False) for name, content, _ in CASES}


def test_fixtures_cover_the_styles_and_a_165_kb_chapter():
    assert len(EXPECTED) == 12
    styles = " ".join(e["style"] for e in EXPECTED.values())
    for style in ("ADA", "ACC/AHA", "KDIGO", "NICE", "USPSTF", "CDC", "VA/DoD", "HTML", "Markdown"):
        assert style in styles
    chapter, expected = build_chapter()
    assert 160 * 1024 <= len(chapter.encode("utf-8")) <= 175 * 1024
    assert len({e["id"] for e in expected["formal"]}) == len(expected["formal"]) == 42


def test_raw_fixtures_hold_every_artifact_the_checks_look_for():
    """The artifact checks are not vacuous: each kind is present before cleaning."""
    raw = "\n".join(fixture_text(name) for name in EXPECTED)
    flattened = raw.replace("\n", " ")  # how line-end hyphens look once lines are joined
    every = {
        "furniture": [s for e in EXPECTED.values() for s in e["furniture"]],
        "table_text": [s for e in EXPECTED.values() for s in e["table_text"]],
    }
    found = artifacts({"feature": flattened, "recommendations": []}, every)
    assert set(found) == set(ARTIFACTS) | {"header/footer", "table text"}
    assert all(found.values()), found
    # a statement's grade ends its line and the next number is glued to its first word
    assert re.search(r"^9\.2For", raw, re.M) and re.search(r"risk\. A\n9\.\d+[A-Z]", raw)


@pytest.mark.parametrize("name, content, expected", CASES, ids=[c[0] for c in CASES])
def test_formal_recommendations_numbers_and_grades(results, name, content, expected):
    result = results[name]
    s = score(result, expected)
    assert s["missed"] == [] and s["extra"] == []
    assert (s["recall"], s["precision"], s["grade_accuracy"]) == (1.0, 1.0, 1.0)
    assert s["artifact_kinds"] == {}
    assert s["narrative"] >= expected["narrative_at_least"]
    assert result["recommendation_count"] == len(result["recommendations"]) == result["scenario_count"]


@pytest.mark.parametrize("name, content, expected", CASES, ids=[c[0] for c in CASES])
def test_feature_tags_and_names_carry_number_grade_and_narrative(results, name, content, expected):
    result = results[name]
    document = parse_feature(result["feature"])
    assert len(Compiler().compile({**document, "uri": "pdf.feature"})) >= result["scenario_count"]
    scenarios = {}
    for child in document["feature"]["children"]:
        tags = [t["name"] for t in child["scenario"]["tags"]]
        scenarios[next(t for t in tags if t.startswith("@REC-"))[1:]] = (child["scenario"]["name"], set(tags))
    for rec in result["recommendations"]:
        title, tags = scenarios[rec["id"]]
        assert ("@narrative" in tags) == rec["narrative"]
        assert ("narrative" in title) == rec["narrative"]
        if rec["source_id"]:
            assert "@rec-" + rec["source_id"].replace(" ", "-") in tags
            assert title.startswith(f"{rec['id']} [{rec['source_id']}")
        if rec["grade"]:
            assert f"@grade-{rec['grade']}" in tags and f"grade {rec['grade']}" in title
        if rec["class_of_recommendation"]:
            assert f"@class-{rec['class_of_recommendation']}" in tags


@pytest.mark.parametrize("name, content, expected", CASES, ids=[c[0] for c in CASES])
def test_spans_point_into_the_original_text(results, name, content, expected):
    for rec in results[name]["recommendations"]:
        start, end = rec["span"]["start"], rec["span"]["end"]
        original = unicodedata.normalize("NFKC", content[start:end])
        first = rec["text"].split()[0]
        assert original.startswith(first[:1]) and original.split()[0].startswith(first[:3]), (rec["id"], original[:40])
        assert original.rstrip(" .;:!\n")[-1] == rec["text"].rstrip(" .;:!")[-1], (rec["id"], original[-40:])


def test_ada_chapter_reads_grades_at_the_end_of_each_statement(results):
    recs = {r["source_id"]: r for r in results["ada_glycemic_therapy.txt"]["recommendations"] if r["source_id"]}
    assert recs["9.1"]["text"].startswith("For adults with newly diagnosed")
    assert recs["9.2"]["text"].startswith("For most adults") and recs["9.2"]["grade"] == "A"
    assert recs["9.4b"]["grade"] == "E" and recs["9.8"]["grade"] == "B" and recs["9.8"]["negated"]
    assert "who have CKD" in recs["9.6"]["text"]
    assert "hypoglycemia, such as older adults" in recs["9.13"]["text"]  # hyphen split by a page break
    assert [t["raw"] for t in recs["9.4b"]["thresholds"]] == ["≥10%", "≥300 mg/dL"]


def test_kdigo_and_uspstf_grades_in_brackets(results):
    kdigo = {r["source_id"]: r for r in results["kdigo_diabetes_ckd.txt"]["recommendations"] if r["source_id"]}
    assert (kdigo["1.2.2"]["grade"], kdigo["1.2.2"]["strength"]) == ("2B", "Grade 2B")
    assert kdigo["PP 1.2.1"]["grade"] is None
    uspstf = [r for r in results["uspstf_statin_prevention.txt"]["recommendations"] if not r["narrative"]]
    assert [r["grade"] for r in uspstf] == ["B", "C", "I", "D"]
    assert uspstf[3]["negated"] and not uspstf[2]["negated"]


def test_api_returns_source_id_and_narrative(client):
    content = fixture_text("ada_glycemic_therapy.txt")
    body = client.post("/api/v1/analyze", json={"content": content}).get_json()
    first = body["recommendations"][0]
    assert (first["narrative"], first["source_id"]) == (True, None)
    second = body["recommendations"][1]
    assert (second["narrative"], second["source_id"], second["grade"]) == (False, "9.1", "A")
    plain = client.post(
        "/api/v1/analyze", json={"content": content}, headers={"Accept": "text/x-gherkin"}
    ).get_data(as_text=True)
    assert "@REC-003 @rec-9.2 @grade-A" in plain
    assert "Scenario: REC-003 [9.2, grade A] Recommend:" in plain


def test_documents_without_formal_recommendations_keep_todays_behaviour():
    text = (
        "Secondary prevention\n\n"
        "- In patients with chronic coronary disease, statin therapy is recommended (Class I, LOE A).\n"
        "- Aspirin should be considered for adults after a myocardial infarction.\n"
    )
    recs = analyze(text, record_metrics=False)["recommendations"]
    assert len(recs) == 2
    assert all(not r["narrative"] and r["source_id"] is None for r in recs)
    assert "@narrative" not in analyze(text, record_metrics=False)["feature"]


def test_openapi_documents_every_recommendation_field(client, results):
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Recommendation"]
    rec = results["kdigo_diabetes_ckd.txt"]["recommendations"][0]
    assert set(schema["properties"]) == set(rec)
    assert "source_id" in schema["properties"] and schema["properties"]["narrative"]["type"] == "boolean"
