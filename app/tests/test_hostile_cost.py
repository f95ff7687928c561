"""Hostile input costs work linear in its size (issue 17): compared within one run, never
against a wall-clock limit. One long run of letters once made cleaning quadratic (10,000
letters 1.2 s, 20,000 5.3 s): the line-end hyphen search backtracked over every start."""
from __future__ import annotations

import time

from clinical_bdd.clean import clean_document
from clinical_bdd.service import analyze


def _cpu_seconds(work, text: str) -> float:
    """Least CPU time of three runs: the least disturbed by whatever else the machine does."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        work(text)
        best = min(best, time.process_time() - started)
    return best


def _growth(work, make, small: int) -> float:
    return _cpu_seconds(work, make(small * 8)) / max(_cpu_seconds(work, make(small)), 1e-4)


def test_one_long_run_of_letters_is_cleaned_in_linear_time():
    # 8× the input: linear work grows about 8×, quadratic 64×.
    ratio = _growth(clean_document, lambda n: "a" * n + "\n", 40_000)
    assert ratio < 24, f"cleaning 8x the letters cost {ratio:.1f}x the CPU"


def test_a_line_end_hyphen_after_a_long_run_is_still_found_and_costs_linear_time():
    ratio = _growth(clean_document, lambda n: "a" * n + "-\ncemia\n", 40_000)
    assert ratio < 24, f"cleaning 8x the letters cost {ratio:.1f}x the CPU"
    assert clean_document("hypogly-\ncemia is low\n").text.startswith("hypoglycemia")


def test_the_whole_analysis_of_one_long_token_grows_linearly():
    ratio = _growth(lambda text: analyze(text, record_metrics=False), lambda n: "a" * n, 12_500)
    assert ratio < 24, f"analysing 8x the letters cost {ratio:.1f}x the CPU"
