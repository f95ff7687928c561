"""Unit tests of extraction and Gherkin writing on targeted sentences."""
from __future__ import annotations

import random

import pytest

from clinical_bdd.extractor import GenerationTimeout, extract, infer_specialty
from clinical_bdd.gherkin_writer import InvalidGherkin, parse, write_feature
from clinical_bdd.service import analyze


def one(text: str):
    recs = extract(text)
    assert len(recs) == 1, [r.text for r in recs]
    return recs[0]


def test_acc_aha_class_and_loe():
    rec = one("In adults with heart failure, an ARNi is recommended (COR 1, LOE B-R).")
    assert rec.class_of_recommendation == "I"
    assert rec.level_of_evidence == "B-R"
    assert rec.strength == "Class I"
    assert rec.action == "an ARNi"
    assert not rec.negated


def test_ada_trailing_grade():
    rec = one("9.1 Metformin should be started at the time type 2 diabetes is diagnosed. A")
    assert rec.grade == "A"
    assert rec.action.startswith("start metformin")


@pytest.mark.parametrize(
    "sentence",
    [
        "Aspirin should not be used for primary prevention in adults at low risk. B",
        "Routine screening is not recommended for asymptomatic adults (Class III: No Benefit, LOE B-R).",
        "Sulfonylureas are not recommended in older adults. B",
        "Avoid nonsteroidal anti-inflammatory drugs in patients with heart failure. C",
        "Do not discontinue statins in older adults with ASCVD. B",
    ],
)
def test_negations(sentence):
    assert one(sentence).negated


def test_compound_conditions_and_exclusions():
    rec = one(
        "In adults with type 2 diabetes, CKD, and heart failure without hypoglycemia, "
        "an SGLT2 inhibitor is recommended. A"
    )
    assert rec.population == "adults"
    assert rec.conditions == ["type 2 diabetes", "CKD", "heart failure"]
    assert rec.excluded_conditions == ["hypoglycemia"]
    feature = write_feature([rec], "diabetes")
    assert feature.count("And the patient has") == 3
    assert 'Given the patient belongs to the population "adults"' in feature
    assert 'And the patient does not have "hypoglycemia"' in feature
    parse(feature)


@pytest.mark.parametrize(
    "sentence, measure, comparator, value, unit",
    [
        ("In adults with BP ≥130/80 mmHg, drug therapy is recommended. A", "blood pressure", ">=", "130/80", "mmHg"),
        ("An A1C <7% is recommended for most adults. A", "A1C", "<", "7", "%"),
        ("In adults with LDL ≥190 mg/dL, statin therapy is recommended. A", "LDL cholesterol", ">=", "190", "mg/dL"),
        ("Metformin should not be used with an eGFR below 30 mL/min/1.73 m2. B", "eGFR", "<", "30", "mL/min/1.73 m2"),
        ("In adults with a BMI of 30 kg/m2 or higher, therapy should be offered. B", "BMI", ">=", "30", "kg/m2"),
        ("Adults aged 40 to 75 years should be screened for diabetes. B", "age", "between", "40-75", "years"),
        ("In patients with a UACR >= 300 mg/g, an ARB is recommended. A", "UACR", ">=", "300", "mg/g"),
    ],
)
def test_thresholds(sentence, measure, comparator, value, unit):
    rec = one(sentence)
    assert len(rec.thresholds) == 1
    t = rec.thresholds[0]
    assert (t.measure, t.comparator, t.value, t.unit) == (measure, comparator, value, unit)
    assert sentence[t.span[0] : t.span[1]] == t.raw
    parse(write_feature([rec], "general"))


def test_bp_outline_examples_at_below_above():
    rec = one("In adults with diabetes, treatment should be initiated at a BP of 130/80 mm Hg or higher. A")
    feature = write_feature([rec], "hypertension")
    doc = parse(feature)
    scenario = doc["feature"]["children"][0]["scenario"]
    rows = [[c["value"] for c in r["cells"]] for r in scenario["examples"][0]["tableBody"]]
    assert rows == [
        ["just below cut-off", "129/79", "should not recommend"],
        ["at cut-off", "130/80", "should recommend"],
        ["just above cut-off", "131/81", "should recommend"],
    ]


def test_target_a1c_outline():
    rec = one("An A1C goal of <7% is appropriate for many nonpregnant adults. A")
    assert rec.thresholds[0].kind == "target"
    feature = write_feature([rec], "diabetes")
    assert "| at cut-off         | 7.0 | not at goal |" in feature
    assert "| just below cut-off | 6.9 | at goal     |" in feature
    parse(feature)


def test_or_logic_between_thresholds():
    rec = one("Insulin should be considered if the A1C is ≥10% or glucose is ≥300 mg/dL. E")
    assert rec.threshold_logic == "any"
    feature = write_feature([rec], "diabetes")
    scenario = parse(feature)["feature"]["children"][0]["scenario"]
    rows = {r["cells"][0]["value"]: [c["value"] for c in r["cells"][1:]] for r in scenario["examples"][0]["tableBody"]}
    # holding glucose below its cut-off, the A1C value alone decides, and vice versa
    assert rows["A1C at cut-off"] == ["10.0", "299", "should recommend"]
    assert rows["A1C just below cut-off / glucose just below cut-off"] == ["9.9", "299", "should not recommend"]
    assert rows["glucose at cut-off"] == ["9.9", "300", "should recommend"]


def test_non_recommendation_prose_is_ignored():
    assert extract("Diabetes affects 37 million people. The prevalence rose from 2001 to 2020.") == []


def test_markdown_is_cleaned_and_spans_map_back():
    text = "## Lipids\n\n- **Statin therapy** is *recommended* for adults with `ASCVD` (Class I, LOE A).\n"
    rec = one(text)
    assert rec.text == "Statin therapy is recommended for adults with ASCVD"
    assert rec.section == "Lipids"
    assert text[rec.span[0] : rec.span[1]].startswith("Statin therapy**")


def test_table_rows_with_cor_and_loe_cells():
    text = "| COR | LOE | Recommendations |\n|---|---|---|\n| 2a | B-NR | In patients with HFrEF, an ICD is reasonable. |\n"
    rec = one(text)
    assert (rec.class_of_recommendation, rec.level_of_evidence) == ("IIa", "B-NR")


def test_specialty_inference():
    assert infer_specialty("Statin therapy lowers LDL cholesterol.") == "lipids"
    assert infer_specialty("Children and adolescents with obesity") == "pediatrics"
    assert infer_specialty("nothing relevant here") == "general"


HOSTILE = [
    'Feature: injected\nScenario: x\n"""\n| a | b |\n# comment\n@tag should be used. A',
    "In adults with | pipes | and \\ backslashes, X | Y should be used. A",
    "Examples: In adults with <outcome> and <case>, drug <A1C> is recommended when A1C ≥ 7%. A",
    "@REC-001 In adults with \"quotes\" and 'apostrophes', aspirin should not be given. B",
    "Given When Then And But * Background: Rule: Scenario Outline: should be recommended. A",
    "# language: fr\nIn adults, metformin is recommended. A",
    "In adults with ≥≥≥ 130//80 mmHg <<< 7%%, therapy should be considered. E",
    "\u202eIn adults with \u0000 nul and \t tabs, X is recommended.\r\nY should not be used.\r",
]


@pytest.mark.parametrize("content", HOSTILE)
def test_hostile_input_still_yields_valid_gherkin(content):
    result = analyze(content, record_metrics=False)
    doc = parse(result["feature"])
    assert len(doc["feature"]["children"]) == result["recommendation_count"]


def test_random_fuzz_yields_valid_gherkin():
    rng = random.Random(1234)
    vocab = (
        "In adults with diabetes , and or should not be used recommended is A B C E ≥ < > ≤ 7% 130/80 mmHg "
        "mg/dL | \\ \" ' # @ : Feature: Scenario: Examples: <x> aged 40 to 75 years (Class I, LOE A) . \n - 1."
    ).split(" ")
    for _ in range(200):
        content = " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 60)))
        result = analyze(content, record_metrics=False)
        parse(result["feature"])


def test_invalid_gherkin_is_detected():
    with pytest.raises(InvalidGherkin):
        parse("Feature: x\n  Scenario Outline: y\n    Given <a>\n    Examples:\n      | a |\n      | 1 | 2 |\n")


def test_deadline_stops_extraction():
    import time

    with pytest.raises(GenerationTimeout):
        extract("In adults, X is recommended. A\n\n" * 100, deadline=time.monotonic() - 1)


def test_we_recommend_that_clinicians():
    rec = one(
        "We recommend that clinicians prescribe high-intensity statin therapy for patients aged 75 years "
        "or younger with clinical ASCVD (Grade A)."
    )
    assert rec.action == "prescribe high-intensity statin therapy"
    assert rec.grade == "A" and rec.population == "patients" and rec.conditions == ["clinical ASCVD"]
    assert [(t.measure, t.comparator, t.value) for t in rec.thresholds] == [("age", "<=", "75")]


def test_strength_after_final_period_and_numbering():
    rec = one("1.2. For adults with stage 1 hypertension, nonpharmacological therapy is recommended. (COR: I; LOE: B-R)")
    assert (rec.class_of_recommendation, rec.level_of_evidence) == ("I", "B-R")
    assert rec.conditions == ["stage 1 hypertension"]


def test_grade_style_strength_and_prefix():
    rec = one(
        "Recommendation 4: In women with gestational diabetes, insulin should be used as first-line therapy "
        "(strong recommendation, high-quality evidence)."
    )
    assert rec.strength == "Strong recommendation" and rec.level_of_evidence == "high-quality"
    assert rec.action == "use insulin as first-line therapy"
    assert "@strength-strong" in write_feature([rec], "obstetrics")


def test_goal_words_near_the_measure_only():
    rec = one("Systolic blood pressure should be lowered to <140 mm Hg in adults aged ≥80 years. A")
    kinds = {t.measure: t.kind for t in rec.thresholds}
    assert kinds == {"systolic blood pressure": "target", "age": "condition"}
