#!/usr/bin/env python3
"""Quality benchmark (not a test): formal recommendations found in guideline
text as extracted from PDF, against the numbers and grades stored beside each
fixture (tests/guidelines/pdf/expected.json), plus the assembled ~165 KB chapter.

Per fixture and overall: recall and precision of formal recommendations
(number and opening words must match), grade (or class/LOE) accuracy over the
matched ones, PDF artifacts left in the output (feature + recommendation
texts), and the time of one analyze() (extraction, Gherkin writing, official
parser): median of --runs warm runs. Every feature is also compiled to pickles
with the official Gherkin parser.

    app/.venv/bin/python app/bench/quality.py
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(APP_DIR), str(APP_DIR / "tests")]

from clinical_bdd.gherkin_writer import parse  # noqa: E402
from clinical_bdd.service import analyze  # noqa: E402
from pdf_fixtures import cases, score  # noqa: E402


def _timed(content: str) -> tuple[dict, float]:
    started = time.perf_counter()
    result = analyze(content, record_metrics=False)
    return result, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per fixture (median is printed)")
    args = ap.parse_args()

    all_cases = cases()
    # the first analysis in a process also loads the word-segmentation list
    _, cold = _timed(all_cases[0][1])
    rows, totals = [], {"expected": 0, "formal": 0, "matched": 0, "grades_ok": 0, "artifacts": 0, "narrative": 0}
    failures = []
    for name, content, expected in all_cases:
        times = []
        for _ in range(max(1, args.runs)):
            result, elapsed = _timed(content)
            times.append(elapsed)
        parse(result["feature"])  # official parser + pickles; raises on invalid Gherkin
        s = score(result, expected)
        for key in totals:
            totals[key] += s[key]
        kinds = ", ".join(f"{k} {v}" for k, v in s["artifact_kinds"].items()) or "-"
        rows.append(
            f"| {name} | {len(content.encode('utf-8')) / 1024:.1f} | {s['expected']} | {s['formal']} | {s['narrative']} "
            f"| {s['recall']:.3f} | {s['precision']:.3f} | {s['grade_accuracy']:.3f} | {s['artifacts']} ({kinds}) "
            f"| {statistics.median(times) * 1000:.0f} |"
        )
        failures += [f"{name}: missed {m['id']} {m['starts']!r}" for m in s["missed"]]
        failures += [f"{name}: extra {r['source_id']} {r['text'][:60]!r}" for r in s["extra"]]
    recall = totals["matched"] / totals["expected"]
    precision = totals["matched"] / totals["formal"] if totals["formal"] else 0.0
    grades = totals["grades_ok"] / totals["matched"] if totals["matched"] else 0.0

    print(f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; nproc: {os.cpu_count()}; python {sys.version.split()[0]}")
    print(f"load average before timing: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print("| Fixture | KB | expected | formal found | narrative | recall | precision | grade accuracy | artifacts left | ms (median) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for row in rows:
        print(row)
    print(
        f"| **overall** | | {totals['expected']} | {totals['formal']} | {totals['narrative']} | {recall:.3f} "
        f"| {precision:.3f} | {grades:.3f} | {totals['artifacts']} | |"
    )
    print()
    print(f"first analysis in a fresh process (loads the word list once): {cold * 1000:.0f} ms")
    for line in failures:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
