"""Against real gunicorn on loopback: multi-worker metrics, the concurrency
limit, the request timeout, SIGTERM graceful finish, JSON logs."""
from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import threading
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import GUIDELINES, parse_feature

SLOW = "In adults with type 2 diabetes, metformin is recommended. A\n"


def scrape(base: str) -> dict[tuple[str, tuple], float]:
    text = requests.get(base + "/metrics", timeout=5).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def total(samples: dict, name: str, **labels) -> float:
    return sum(
        v for (n, lbls), v in samples.items() if n == name and all(dict(lbls).get(k) == val for k, val in labels.items())
    )


def access_records(server, **match) -> list[dict]:
    return [
        r for r in server.log_records()
        if r.get("logger") == "clinical_bdd.access" and all(r.get(k) == v for k, v in match.items())
    ]


def test_metrics_add_up_across_workers(gunicorn_server):
    server = gunicorn_server(workers=2)
    base = server.base
    assert len(server.worker_pids()) == 2

    sent_index = 0
    with cf.ThreadPoolExecutor(8) as pool:
        # keep sending until both workers have served "/" (bounded)
        for _ in range(20):
            codes = list(pool.map(lambda _: requests.get(base + "/", timeout=5).status_code, range(20)))
            assert codes == [200] * 20
            sent_index += 20
            time.sleep(0.2)
            if len({r["pid"] for r in access_records(server, path="/")}) >= 2:
                break
    assert len({r["pid"] for r in access_records(server, path="/")}) == 2, "both workers must serve"

    contents = [p.read_text(encoding="utf-8") for p in GUIDELINES[:6]]
    with cf.ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda c: requests.post(base + "/api/v1/analyze", json={"content": c}, timeout=30), contents))
    assert all(r.status_code == 200 for r in responses)
    scenarios = sum(r.json()["scenario_count"] for r in responses)
    assert len({r["pid"] for r in access_records(server, path="/api/v1/analyze")}) >= 1

    samples = scrape(base)
    assert total(samples, "clinical_bdd_http_requests_total", endpoint="/", method="GET", status="200") == sent_index
    assert total(samples, "clinical_bdd_http_request_duration_seconds_count", endpoint="/", method="GET") == sent_index
    assert total(samples, "clinical_bdd_http_request_duration_seconds_bucket", endpoint="/", method="GET", le="+Inf") == sent_index
    assert total(samples, "clinical_bdd_http_requests_total", endpoint="/api/v1/analyze", status="200") == 6
    assert total(samples, "clinical_bdd_scenarios_generated_total") == scenarios
    assert total(samples, "clinical_bdd_generation_duration_seconds_count") == 6
    # gauges aggregate to one sample per replica
    assert [v for (n, _), v in samples.items() if n == "clinical_bdd_max_concurrent_requests"] == [10.0]
    assert [l for (n, l), _ in samples.items() if n == "clinical_bdd_build_info"] == [(("version", "1.0.0"),)]
    assert total(samples, "clinical_bdd_http_requests_in_flight") == 1.0  # the scrape itself
    buckets = {dict(l)["le"] for (n, l), _ in samples.items() if n == "clinical_bdd_http_request_duration_seconds_bucket"}
    assert {"0.005", "1.0", "5.0", "10.0", "300.0", "+Inf"} <= buckets

    # a worker dies: its counts survive, the respawned worker adds to them
    victim = sorted(server.worker_pids())[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while len(server.worker_pids() - {victim}) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    assert requests.get(base + "/", timeout=5).status_code == 200
    after = scrape(base)
    assert total(after, "clinical_bdd_http_requests_total", endpoint="/", method="GET", status="200") == sent_index + 1
    assert total(after, "clinical_bdd_http_requests_in_flight") == 1.0


def test_concurrency_limit_returns_503_quickly(gunicorn_server):
    server = gunicorn_server(
        {"MAX_CONCURRENT_REQUESTS": "2", "CLINICAL_BDD_TEST_ANALYZE_DELAY_SECONDS": "3"}, workers=2
    )
    base = server.base
    barrier = threading.Barrier(6)

    def call(_):
        barrier.wait(timeout=10)
        started = time.monotonic()
        r = requests.post(base + "/api/v1/analyze", json={"content": SLOW}, timeout=30)
        return r, time.monotonic() - started

    with cf.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(call, i) for i in range(6)]
        time.sleep(0.8)
        # probes keep working while the replica is saturated
        t0 = time.monotonic()
        health = requests.get(base + "/health", timeout=5)
        health_latency = time.monotonic() - t0
        results = [f.result(timeout=30) for f in futures]

    ok = [(r, d) for r, d in results if r.status_code == 200]
    rejected = [(r, d) for r, d in results if r.status_code == 503]
    assert len(ok) == 2 and len(rejected) == 4, [r.status_code for r, _ in results]
    for r, elapsed in rejected:
        assert r.headers["Retry-After"] == "1"
        body = r.json()
        assert body["error"] == "concurrency_limit" and body["request_id"]
        assert elapsed < 1.5, elapsed  # answered at once, not queued behind the slow ones
    for r, elapsed in ok:
        assert elapsed >= 2.9
    assert health.status_code == 200 and health_latency < 1.0

    samples = scrape(base)
    assert total(samples, "clinical_bdd_rejected_requests_total", reason="concurrency_limit") == 4
    assert total(samples, "clinical_bdd_http_requests_total", endpoint="/api/v1/analyze", status="503") == 4
    assert [v for (n, _), v in samples.items() if n == "clinical_bdd_max_concurrent_requests"] == [2.0]
    # slots are released: a new request succeeds
    assert requests.post(base + "/api/v1/analyze", json={"content": SLOW}, timeout=30).status_code == 200


def test_request_timeout_stops_work(gunicorn_server):
    server = gunicorn_server(
        {"REQUEST_TIMEOUT_SECONDS": "1", "CLINICAL_BDD_TEST_ANALYZE_DELAY_SECONDS": "20"}, workers=1
    )
    started = time.monotonic()
    r = requests.post(server.base + "/api/v1/analyze", json={"content": SLOW}, timeout=30)
    assert r.status_code == 504
    assert r.json()["error"] == "timeout"
    assert time.monotonic() - started < 5
    assert total(scrape(server.base), "clinical_bdd_rejected_requests_total", reason="timeout") == 1


def test_sigterm_lets_in_flight_request_finish(gunicorn_server):
    server = gunicorn_server(
        {"CLINICAL_BDD_TEST_ANALYZE_DELAY_SECONDS": "2", "GRACEFUL_TIMEOUT_SECONDS": "15"}, workers=2
    )
    with cf.ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            requests.post, server.base + "/api/v1/analyze", json={"content": SLOW},
            headers={"Accept": "text/x-gherkin"}, timeout=30,
        )
        time.sleep(0.7)  # the request is in flight
        os.kill(server.proc.pid, signal.SIGTERM)  # what tini forwards on `docker stop`
        r = future.result(timeout=30)
    assert r.status_code == 200
    parse_feature(r.text)
    assert server.proc.wait(timeout=15) == 0
    try:
        requests.get(server.base + "/health", timeout=2)
        raise AssertionError("server still accepting after SIGTERM")
    except requests.ConnectionError:
        pass


def test_logs_are_json_with_request_id_and_no_content(gunicorn_server):
    server = gunicorn_server(workers=2)
    marker = "PATIENTXYZZY"
    content = f"In adults with {marker} syndrome and diabetes, metformin is recommended. A\n" + GUIDELINES[0].read_text(
        encoding="utf-8"
    )
    r = requests.post(
        server.base + "/api/v1/analyze",
        json={"content": content, "title": marker},
        headers={"X-Request-ID": "req-from-nginx-42"},
        timeout=30,
    )
    assert r.status_code == 200 and r.headers["X-Request-ID"] == "req-from-nginx-42"
    r = requests.post(server.base + "/api/v1/analyze", data=f"not json {marker}", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 415
    generated = r.headers["X-Request-ID"]
    time.sleep(0.3)
    records = server.log_records()  # json.loads on every stdout/stderr line: fails on a non-JSON line
    assert records
    mine = access_records(server, request_id="req-from-nginx-42")
    assert len(mine) == 1
    assert mine[0]["method"] == "POST" and mine[0]["path"] == "/api/v1/analyze" and mine[0]["status"] == 200
    assert mine[0]["duration_ms"] > 0
    assert access_records(server, request_id=generated)[0]["status"] == 415
    assert marker not in server.log_text()


def test_413_through_gunicorn(gunicorn_server):
    server = gunicorn_server({"MAX_BODY_BYTES": "1024"}, workers=1)
    r = requests.post(server.base + "/api/v1/analyze", json={"content": "x" * 4096}, timeout=10)
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"
    # a body far beyond the limit is refused cleanly too (no reset, JSON error)
    big = b'{"content": "' + b"a" * 3_000_000 + b'"}'
    r = requests.post(server.base + "/api/v1/analyze", data=big, headers={"Content-Type": "application/json"}, timeout=20)
    assert r.status_code == 413 and r.json()["request_id"]
    assert requests.get(server.base + "/health", timeout=5).status_code == 200
    assert total(scrape(server.base), "clinical_bdd_rejected_requests_total", reason="body_too_large") == 2
