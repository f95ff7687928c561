#!/usr/bin/env python3
"""Quality benchmark (not a test): formal recommendations found in guideline
text as extracted from PDF, against the facts stored beside each fixture
(tests/guidelines/pdf/expected.json), plus the assembled ~165 KB chapter, and
optionally against real published texts kept outside the repository.

Two tables. Recall: formal recommendations found (number and opening words),
precision, grade accuracy and PDF artifacts left in the output. Correctness:
for every labelled recommendation, whether its scenario is right on polarity,
population, conditions, thresholds (measure, comparator, value, unit) and
grade; the share right on all of them ("fully right") and each field's
accuracy. Time: one analyze() (extraction, Gherkin writing, official parser),
median of --runs warm runs. Every feature is compiled to pickles with the
official Gherkin parser.

    app/.venv/bin/python app/bench/quality.py [--real /tmp/real-guidelines] [--heldout /tmp/heldout]
        [--heldout2 /tmp/heldout2] [--set LABELS.json DIR ...] [--why]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(APP_DIR), str(APP_DIR / "tests")]

from clinical_bdd.gherkin_writer import parse  # noqa: E402
from clinical_bdd.service import analyze  # noqa: E402
from correctness import FIELDS, describe  # noqa: E402
from correctness import score as correctness  # noqa: E402
from pdf_fixtures import cases, score  # noqa: E402

REAL_LABELS = APP_DIR / "bench" / "real_labels.json"
HELDOUT_LABELS = APP_DIR / "bench" / "heldout_labels.json"
HELDOUT2_LABELS = APP_DIR / "bench" / "heldout2_labels.json"
ERROR_CLASSES = APP_DIR / "bench" / "error_classes.json"


def _by_class(rows: dict[str, list[bool]], real: bool) -> list[str]:
    """Fully-right share of the recommendations that exercise each class of
    error (bench/error_classes.json), own fixtures and real texts apart."""
    classes = {k: v for k, v in json.loads(ERROR_CLASSES.read_text(encoding="utf-8")).items() if not k.startswith("_")}
    out = ["| Class of error | own fixtures | real texts |", "|---|---:|---:|"]
    for name, keys in classes.items():
        cells = []
        for want_real in (False, True):
            hits = [rows[k] for k in keys if k in rows and (k.split("#")[0] in _REAL_NAMES) == want_real]
            cells.append(f"{sum(hits)}/{len(hits)}" if hits else "-")
        if not real:
            cells[1] = "-"
        out.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return out


_REAL_NAMES: set[str] = set()


def _timed(content: str) -> tuple[dict, float]:
    started = time.perf_counter()
    result = analyze(content, record_metrics=False)
    return result, time.perf_counter() - started


def _correctness_table(rows: list[tuple[str, dict]]) -> list[str]:
    out = [
        "| Text | labelled | found | fully right | " + " | ".join(FIELDS) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(FIELDS),
    ]
    total = {"n": 0, "found": 0, "fully_right": 0, **{f: 0 for f in FIELDS}}
    for name, c in rows:
        total["n"] += c["n"]
        total["found"] += c["found"]
        total["fully_right"] += c["fully_right"]
        for f in FIELDS:
            total[f] += c["right"][f]
        out.append(
            f"| {name} | {c['n']} | {c['found']} | {c['fully_right'] / c['n']:.3f} | "
            + " | ".join(f"{c['right'][f] / c['n']:.3f}" for f in FIELDS)
            + " |"
        )
    n = total["n"] or 1
    out.append(
        f"| **overall** | {total['n']} | {total['found']} | **{total['fully_right'] / n:.3f}** | "
        + " | ".join(f"{total[f] / n:.3f}" for f in FIELDS)
        + " |"
    )
    return out


def _labelled_table(folder: Path, labels_file: Path, heading: str, per_rec: dict, record_real: bool) -> list[str]:
    """Print the correctness table of one set of labelled published texts;
    returns the lines for --why. Only the real texts feed the by-class table
    (error_classes.json names them)."""
    labels = {k: v for k, v in json.loads(labels_file.read_text(encoding="utf-8")).items() if not k.startswith("_")}
    table, why = [], []
    for name, entry in labels.items():
        result, _ = _timed((folder / name).read_text(encoding="utf-8"))
        parse(result["feature"])
        c = correctness(result, entry["formal"])
        table.append((name, c))
        if record_real:
            _REAL_NAMES.add(name)
            per_rec.update({f"{name}#{i}": ok for i, ok in enumerate(c["each"], start=1)})
        why += [f"{name} {describe(w)}" for w in c["wrong"]]
        why += [f"{name} contradicting Examples row: {x}" for x in c["contradictions"]]
    print()
    print(f"Correctness, {heading} ({folder}):")
    print("\n".join(_correctness_table(table)))
    print(f"Examples rows whose outcome contradicts the guideline: {sum(len(c['contradictions']) for _, c in table)}")
    return why


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per fixture (median is printed)")
    ap.add_argument("--real", type=Path, help="folder of real guideline texts named as in bench/real_labels.json")
    ap.add_argument("--heldout", type=Path, help="folder of held-out texts (not read while writing the rules) named as in bench/heldout_labels.json")
    ap.add_argument("--heldout2", type=Path, help="folder of the second held-out set, named as in bench/heldout2_labels.json")
    ap.add_argument(
        "--set", nargs=2, action="append", default=[], metavar=("LABELS", "DIR"),
        help="any further labelled set: a labels file (same shape as real_labels.json) and the folder of its texts; repeatable",
    )
    ap.add_argument("--why", action="store_true", help="list every recommendation that is wrong, and how")
    args = ap.parse_args()

    all_cases = cases()
    # the first analysis in a process also loads the word-segmentation list
    _, cold = _timed(all_cases[0][1])
    rows, totals = [], {"expected": 0, "formal": 0, "matched": 0, "grades_ok": 0, "artifacts": 0, "narrative": 0}
    failures, own, why = [], [], []
    per_rec: dict[str, bool] = {}  # "text#n": fully right
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
        c = correctness(result, expected["formal"])
        own.append((name, c))
        per_rec.update({f"{name}#{i}": ok for i, ok in enumerate(c["each"], start=1)})
        why += [f"{name} {describe(w)}" for w in c["wrong"]]
        why += [f"{name} contradicting Examples row: {x}" for x in c["contradictions"]]
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
    print()
    print("Correctness, own fixtures:")
    print("\n".join(_correctness_table(own)))
    print(f"Examples rows whose outcome contradicts the guideline: {sum(len(c['contradictions']) for _, c in own)}")
    sets = [
        (args.real, REAL_LABELS, "real published texts"),
        (args.heldout, HELDOUT_LABELS, "held-out published texts"),
        (args.heldout2, HELDOUT2_LABELS, "held-out set 2, published texts"),
    ]
    sets += [(Path(folder), Path(labels), f"labelled set {Path(labels).name}") for labels, folder in args.set]
    for folder, labels_file, heading in sets:
        if folder:
            why += _labelled_table(folder, labels_file, heading, per_rec, record_real=labels_file == REAL_LABELS)
    print()
    print("Fully right, by class of error (recommendations that exercise it):")
    print("\n".join(_by_class(per_rec, bool(args.real))))
    if args.why:
        print()
        print("\n".join(why))
    return 0


if __name__ == "__main__":
    sys.exit(main())
