#!/usr/bin/env python3
"""Benchmark (not a test): analyze of a ~100 KB guideline under real gunicorn.

Starts gunicorn on 127.0.0.1 (free port), builds a ~100 KB guideline from the
passages in tests/guidelines/, measures throughput and p50/p95 latency of
POST /api/v1/analyze at concurrency 1 and 10, and GET /health; figures are also
given as ratios to /health at concurrency 1 measured in the same run.
Bounded: each phase stops after --max-requests or --max-seconds.

    cd app && .venv/bin/python bench/benchmark.py
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

APP_DIR = Path(__file__).resolve().parent.parent
GUIDELINES = sorted((APP_DIR / "tests" / "guidelines").glob("*.md"))


def build_guideline(target_bytes: int = 100 * 1024) -> str:
    """Repeat the passages with varied numbering and numbers up to the target size."""
    passages = [p.read_text(encoding="utf-8") for p in GUIDELINES]
    parts, size, round_no = [], 0, 0
    while size < target_bytes:
        for text in passages:
            round_no += 1
            # vary section numbers and thresholds so the text is not identical
            varied = re.sub(r"^(\d+)\.(\d+)", lambda m: f"{int(m.group(1)) + round_no}.{m.group(2)}", text, flags=re.M)
            varied = varied.replace("130/80", f"{130 + round_no % 5}/80").replace("190 mg/dL", f"{190 + round_no % 7} mg/dL")
            chunk = f"\n\n# Part {round_no}\n\n{varied}"
            parts.append(chunk)
            size += len(chunk.encode("utf-8"))
            if size >= target_bytes:
                break
    return "".join(parts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_phase(make_request, concurrency: int, max_requests: int, max_seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    issued = 0
    deadline = time.monotonic() + max_seconds

    def worker():
        nonlocal issued
        session = requests.Session()
        while True:
            with lock:
                if issued >= max_requests or time.monotonic() > deadline:
                    return
                issued += 1
            t0 = time.perf_counter()
            status = make_request(session)
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    with cf.ThreadPoolExecutor(concurrency) as pool:
        for f in [pool.submit(worker) for _ in range(concurrency)]:
            f.result()
    wall = time.perf_counter() - started
    return {
        "n": len(latencies),
        "ok": statuses.get(200, 0),
        "statuses": statuses,
        "rps": len(latencies) / wall if wall else 0.0,
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--size-kb", type=int, default=100)
    ap.add_argument("--max-requests", type=int, default=60)
    ap.add_argument("--max-seconds", type=float, default=30.0)
    args = ap.parse_args()

    content = build_guideline(args.size_kb * 1024)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.TemporaryDirectory(prefix="clinical_bdd_bench_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMETHEUS_MULTIPROC", "CLINICAL_BDD_"))}
    env.update({"GUNICORN_WORKERS": str(args.workers), "TMPDIR": tmp.name, "LOG_LEVEL": "warning"})
    log = open(Path(tmp.name) / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "clinical_bdd.wsgi:app"],
        cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.1)

        payload = {"content": content, "title": "Benchmark guideline"}
        probe = requests.post(base + "/api/v1/analyze", json=payload, timeout=60).json()
        for _ in range(3):  # warm up every worker
            requests.post(base + "/api/v1/analyze", json=payload, timeout=60)
            requests.get(base + "/health", timeout=5)

        def health(session):
            return session.get(base + "/health", timeout=10).status_code

        def analyze(session):
            return session.post(base + "/api/v1/analyze", json=payload, timeout=300).status_code

        phases = [
            ("GET /health (baseline)", health, 1, 200),
            ("GET /health", health, 10, 400),
            ("POST /api/v1/analyze 100KB", analyze, 1, args.max_requests // 3),
            ("POST /api/v1/analyze 100KB", analyze, 10, args.max_requests),
        ]
        results = [(name, c, run_phase(fn, c, n, args.max_seconds)) for name, fn, c, n in phases]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        tmp.cleanup()

    base_r = results[0][2]
    print(
        f"guideline: {len(content.encode('utf-8')) / 1024:.1f} KB, {probe['recommendation_count']} recommendations, "
        f"{len(probe['feature'].encode('utf-8')) / 1024:.1f} KB feature; gunicorn {args.workers} workers; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    header = f"{'endpoint':<28} {'conc':>4} {'reqs':>5} {'ok':>5} {'req/s':>8} {'p50 ms':>9} {'p95 ms':>9} {'p50 x base':>10} {'req/s x base':>12}"
    print(header)
    print("-" * len(header))
    for name, conc, r in results:
        print(
            f"{name:<28} {conc:>4} {r['n']:>5} {r['ok']:>5} {r['rps']:>8.1f} {r['p50']:>9.1f} {r['p95']:>9.1f} "
            f"{r['p50'] / base_r['p50']:>10.1f} {r['rps'] / base_r['rps']:>12.3f}"
        )
    analyze_c1 = results[2][2]
    verdict = "PASS" if analyze_c1["p95"] < 1000 else "MISS"
    print(f"target analyze 100 KB < 1 s (p95 at concurrency 1): {verdict} ({analyze_c1['p95']:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
