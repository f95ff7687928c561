#!/usr/bin/env python3
"""Benchmark (not a test): CPU time per KB of the analysis for ordinary text,
letter-spaced text and one single token, at 10 KB, 100 KB and 1 MB (issue 17).

Each figure is the CPU time of one in-process ``analyze`` (the whole pipeline,
inline, no HTTP), measured in a fresh child process so that one slow cell cannot
disturb the next; a cell that needs more than --budget CPU seconds is stopped
and shown as "> budget". Ratios are to the ordinary text of the same size,
measured in the same run, so the figures compare across machines.

    cd app && .venv/bin/python bench/hostile.py [--budget 60] [--sizes 10,100,1000] [--shapes]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import resource
import sys
import time
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(APP_DIR))
GUIDELINES = sorted((APP_DIR / "tests" / "guidelines").glob("*.md"))


def ordinary(size: int) -> str:
    """The guideline fixtures, repeated up to ``size`` characters."""
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in GUIDELINES)
    return (text * (size // len(text) + 1))[:size]


def letter_spaced(size: int) -> str:
    """Ordinary text with every word letter-spaced, as some PDFs extract it:
    "m e t f o r m i n   i s   r e c o m m e n d e d" (long runs of single letters)."""
    words = re.sub(r"\s+", " ", ordinary(size // 2 + 64)).split(" ")
    spaced = "   ".join(" ".join(w) for w in words)
    return spaced[:size]


def single_token(size: int) -> str:
    return "a" * size


def repeated(unit: str):
    return lambda size: (unit * (size // len(unit) + 1))[:size]


KINDS = {"ordinary": ordinary, "letter-spaced": letter_spaced, "single token": single_token}
# --shapes: one short piece repeated, each of which once cost quadratic time (issue 17)
SHAPES = {
    "'[' x n": repeated("["),
    "'Class I ' x n": repeated("Class I "),
    "'. ' x n": repeated(". "),
    "'If should not '": repeated("If should not "),
    "'… if A1C <7% '": repeated("metformin is recommended if A1C <7% "),
}


def _measure(kind: str, size: int, budget: float, out) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (int(budget) + 1, int(budget) + 2))
    from clinical_bdd.service import analyze

    text = KINDS[kind](size)
    analyze("In adults with diabetes, metformin is recommended. A\nw h o h a v e d i a b e t e s\n", record_metrics=False)  # warm (word list)
    started = time.process_time()
    analyze(text, record_metrics=False)
    out.send(time.process_time() - started)


def measure(kind: str, size: int, budget: float) -> float | None:
    """CPU seconds, or None when over the budget."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure, args=(kind, size, budget, child))
    proc.start()
    child.close()
    ready = parent.poll(budget * 1.5 + 30)  # wall-clock guard; the CPU limit stops it first
    try:
        value = parent.recv() if ready else None
    except EOFError:  # stopped by the CPU limit
        value = None
    if proc.is_alive():
        proc.kill()
    proc.join()
    return value if value is not None and value <= budget else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=60.0, help="CPU seconds per cell before it is stopped")
    ap.add_argument("--sizes", default="10,100,1000", help="sizes in KB (1000 = 1 MB)")
    ap.add_argument("--shapes", action="store_true", help="also the repeated pieces that once cost quadratic time")
    args = ap.parse_args()
    if args.shapes:
        KINDS.update(SHAPES)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"CPU ms per KB of analyze (budget {args.budget:.0f} s CPU per cell); ratio to ordinary text of the same size")
    print(f"{'text':<18}" + "".join(f"{f'{kb} KB':>26}" for kb in sizes))
    base: dict[int, float] = {}
    for kind in KINDS:
        row = f"{kind:<18}"
        for kb in sizes:
            seconds = measure(kind, kb * 1000, args.budget)
            if seconds is None:
                cell = f"> {args.budget / kb * 1000:.0f} ms/KB"
                if kb in base:
                    cell += f" (> {args.budget / base[kb]:.0f}x)"
            else:
                per_kb = seconds / kb * 1000
                if kind == "ordinary":
                    base[kb] = seconds
                    cell = f"{per_kb:.2f} ms/KB (1x)"
                else:
                    cell = f"{per_kb:.2f} ms/KB ({seconds / base[kb]:.1f}x)" if kb in base else f"{per_kb:.2f} ms/KB"
            row += f"{cell:>26}"
        print(row)


if __name__ == "__main__":
    main()
