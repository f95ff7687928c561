"""Each extraction stage on its own: clean, segment, classify, parse."""
from __future__ import annotations

import pytest

from clinical_bdd.classify import ends_with_strength, parse_parenthetical, unit_strength
from clinical_bdd.clean import clean_document, clean_inline
from clinical_bdd.parse import parse_statement
from clinical_bdd.segment import segment
from clinical_bdd.thresholds import extract_thresholds

HEADER = "S12 Glycemic Goals Care Standards Volume 3, Supplement 1, 2026"


def cleaned(text: str) -> str:
    return clean_document(text).text


# -------------------------------------------------------------------- clean


def test_clean_index_maps_every_character_back():
    text = "Use of ﬁrst-line ther-\napy.12 Then\n"
    doc = clean_document(text)
    assert doc.text == "Use of first-line therapy. Then\n"
    assert len(doc.index) == len(doc.text)
    for ch, at in zip(doc.text, doc.index):
        assert ch == text[at] or text[at] == "ﬁ"
    assert doc.index[doc.text.index("apy")] == text.index("apy")


def test_line_end_hyphen_joins_a_split_word_but_keeps_a_compound():
    text = "an evidence-based plan.\nThe evidence-\nbased plan avoids hypogly-\ncemia and hypoglycemia.\n"
    assert cleaned(text) == "an evidence-based plan.\nThe evidence-based plan avoids hypoglycemia and hypoglycemia.\n"


def test_flattened_hyphen_joins_only_words_spelled_whole_elsewhere():
    text = "Reduce hypogly- cemia; short- and long-acting insulin; non- medical. Hypoglycemia is common.\n"
    assert cleaned(text) == "Reduce hypoglycemia; short- and long-acting insulin; non- medical. Hypoglycemia is common.\n"


def test_running_headers_footers_and_page_numbers_are_dropped():
    pages = [f"{HEADER.replace('S12', f'S{n}')}\nBody line {n} should stay.\n{n}\n" for n in range(12, 16)]
    text = cleaned("".join(pages))
    assert "Care Standards" not in text
    assert text.splitlines() == [f"Body line {n} should stay." for n in range(12, 16)]


def test_with_form_feeds_a_line_on_two_page_edges_is_furniture():
    text = f"Intro line one.\n\f{HEADER}\nBody should stay.\n\f{HEADER.replace('S12', 'S13')}\nMore text.\n"
    assert cleaned(text) == "Intro line one.\nBody should stay.\nMore text.\n"
    assert HEADER in cleaned(text.replace("\f", ""))  # two repeats without page breaks: kept


def test_repeated_headings_list_items_and_statements_are_kept():
    text = "Recommendations\n- Test A1C at 3 months.\n" * 3
    assert cleaned(text) == text


def test_a_statement_split_by_a_page_break_is_whole_again():
    text = f"9.1 Insulin should be\n\n{HEADER}\n\nstarted early. A\n" + f"{HEADER}\n" * 2
    assert cleaned(text) == "9.1 Insulin should be\nstarted early. A\n"


def test_footnote_markers_are_removed_but_units_kept():
    text = "Treat at 30 mL/min/1.73 m² or more.12,13 Insulin† is safe.³ See (Fig. 9.1).15\n"
    assert cleaned(text) == "Treat at 30 mL/min/1.73 m² or more. Insulin is safe. See (Fig. 9.1).\n"


def test_letter_spaced_runs_are_respaced_when_every_word_is_known():
    doc = clean_document("In adults w h oh a v eC K D , an SGLT2 inhibitor.\n")
    assert doc.text == "In adults who have CKD , an SGLT2 inhibitor.\n"
    assert doc.index[doc.text.index("CKD")] == "In adults w h oh a v eC K D".index("C")


def test_letter_spaced_run_without_a_safe_reading_is_left_alone():
    text = "Codes q x z k v j apply.\n"
    assert cleaned(text) == text


def test_a_long_run_of_single_letters_is_data_not_spacing():
    text = "w h o h a v e " * 20 + "end\n"  # 140 tokens: not segmented (cost grows with length)
    assert cleaned(text) == text


def test_clean_inline_strips_markdown_and_maps_offsets():
    text, idx = clean_inline("**Statin**  is  *recommended*", 10)
    assert text == "Statin is recommended"
    assert idx[0] == 12 and idx[text.index("is")] == 22


# ------------------------------------------------------------------ segment


def units_of(text: str):
    return [(u.source_id, u.formal, text[u.start : u.end]) for u in segment(text)]


def test_glued_numbers_and_trailing_grades_delimit_statements():
    text = "9.1For adults, metformin\nshould be used. A\n9.2For most adults, X\nshould be used. B\nNarrative text follows.\n"
    got = units_of(text)
    assert got == [
        ("9.1", True, "For adults, metformin\nshould be used. A"),
        ("9.2", True, "For most adults, X\nshould be used. B"),
        (None, False, "Narrative text follows."),
    ]


def test_numbered_section_headings_are_not_statements():
    text = "1.1 Individualised care\n\n1.1.1 Offer X to adults.\n\n8.1.2. BP Treatment Threshold\nCOR LOE RECOMMENDATIONS\n"
    units = segment(text)
    assert [(u.source_id, u.section) for u in units] == [("1.1.1", "Individualised care")]


def test_named_statements_practice_points_and_cor_loe_columns():
    text = (
        "Recommendation 1.2.1: We recommend X (1A).\n\nPractice Point 1.2.1: Y can be added.\n\n"
        "Recommendations for Treatment\nCOR LOE RECOMMENDATIONS\n2a B-NR 3. In adults, Z is\nreasonable.\n"
    )
    units = segment(text)
    assert [(u.source_id, u.formal, u.strength_cells) for u in units] == [
        ("1.2.1", True, []),
        ("PP 1.2.1", True, []),
        ("3", True, ["2a", "B-NR"]),
    ]
    assert units[2].section == "Recommendations for Treatment"


def test_recommendation_n_and_deep_numbers_keep_their_number():
    text = "Recommendation 5. We suggest X for adults (Grade B).\n\n4.1.3 Offer Y to adults.\n\n9.16aIn adults, Z is used. A\n"
    assert [u.source_id for u in segment(text)] == ["5", "4.1.3", "9.16a"]


def test_recommendations_block_holds_graded_items_until_narrative():
    text = (
        "RECOMMENDATION SUMMARY\n\nAdults: The Task Force recommends X. (B recommendation)\n\n"
        "Adults over 75: evidence is insufficient. (I statement)\n\nRationale follows here.\n\n"
        "Older adults: more text. (C recommendation)\n"
    )
    assert [u.formal for u in segment(text)] == [True, True, False, False]


def test_table_caption_and_layout_rows_are_not_statements():
    text = "Table 2—Agents\nMetformin High Low\nInsulin  Highest  Gain\n\nInsulin  should  be  used.\nText should be read.\n"
    assert [text[u.start : u.end] for u in segment(text)] == ["Text should be read."]


# ----------------------------------------------------------------- classify


@pytest.mark.parametrize(
    "text, expected",
    [
        ("… hypoglycemia risk. A", True),
        ("… in adults (1B).", True),
        ("… for prevention. (I statement)", True),
        ("… is recommended (Class I, LOE B-R).", True),
        ("… to minimize hypoglycemia risk", False),
        ("… with hemoglobin A", False),
    ],
)
def test_ends_with_strength(text, expected):
    assert ends_with_strength(text) is expected


@pytest.mark.parametrize(
    "text, found",
    [
        ("X is recommended (1B).", {"grade": "1B"}),
        ("X is recommended (Grade 2C).", {"grade": "2C"}),
        ("X is recommended. (D recommendation)", {"grade": "D"}),
        ("X is recommended [COR 1, LOE B-R].", {"cor": "I", "loe": "B-R"}),
        ("X is recommended (see Table 2).", {}),
    ],
)
def test_parse_parenthetical_grades_in_brackets(text, found):
    assert parse_parenthetical(text)[1] == found


def test_unit_strength_from_trailing_grade_and_cells():
    text = "Statins should be used in adults. I"
    body, idx, found = unit_strength(text, list(range(len(text))), ["3: Harm", "A"], formal=True)
    assert body == "Statins should be used in adults." and len(idx) == len(body)
    assert found == {"grade": "I", "cell_cor": "III", "cell_loe": "A"}
    assert unit_strength(text, list(range(len(text))), [], formal=False)[2] == {}  # "I" only on formal statements


# -------------------------------------------------------------------- parse


def test_parse_statement_population_conditions_and_action():
    sentence = "In adults with type 2 diabetes and CKD, an SGLT2 inhibitor is recommended"
    thresholds = extract_thresholds(sentence, list(range(len(sentence))))
    from clinical_bdd.classify import CUE

    parsed = parse_statement(sentence, CUE.search(sentence), thresholds)
    assert (parsed.population, parsed.conditions, parsed.action) == (
        "adults",
        ["type 2 diabetes", "CKD"],
        "an SGLT2 inhibitor",
    )
