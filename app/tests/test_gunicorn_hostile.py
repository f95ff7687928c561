"""Hostile and malformed input through real gunicorn (issue 17): a request over
its deadline answers 504 JSON at the deadline while the same workers keep
answering ordinary requests, and no worker is ever killed for it."""
from __future__ import annotations

import concurrent.futures as cf
import json
import time

import requests

from conftest import GUIDELINES
from test_gunicorn import scrape, total

TIMEOUT = 3  # REQUEST_TIMEOUT_SECONDS: also gunicorn's worker timeout
ORDINARY = "In adults with type 2 diabetes, metformin is recommended as initial therapy. A\n"


def letter_spaced(size: int) -> str:
    """Long letter-spaced runs, one line: the text that got no answer for 639 s."""
    return (" ".join("w h o h a v e d i a b e t e s a n d s h o u l d" for _ in range(size // 48 + 1)))[:size]


def start(gunicorn_server, workers: int = 2):
    """A server whose workers have their analysis processes ready (a forkserver
    takes 1-5 s to start on a loaded machine; a request before then waits for it)."""
    server = gunicorn_server({"REQUEST_TIMEOUT_SECONDS": str(TIMEOUT)}, workers=workers)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = {r.get("pid") for r in server.log_records() if r.get("message") == "analysis processes ready"}
        if len(ready) >= workers:
            return server
        time.sleep(0.1)
    raise AssertionError("analysis processes not ready:\n" + server.log_text()[-3000:])


def post(base: str, **kwargs):
    return requests.post(base + "/api/v1/analyze", timeout=60, **kwargs)


def test_hostile_request_costs_only_its_own_deadline(gunicorn_server):
    server = start(gunicorn_server)
    base = server.base
    pids = server.worker_pids()
    hostile = json.dumps({"content": letter_spaced(1_500_000)})
    assert len(hostile) < 2 * 1024 * 1024  # under MAX_BODY_BYTES: the app has to analyse it

    def timed(fn):
        started = time.monotonic()
        r = fn()
        return r, started, time.monotonic()

    ordinary = [GUIDELINES[0].read_text(encoding="utf-8"), ORDINARY, ORDINARY]
    with cf.ThreadPoolExecutor(6) as pool:
        bad = [pool.submit(timed, lambda: post(base, data=hostile, headers={"Content-Type": "application/json"})) for _ in range(2)]
        time.sleep(0.5)  # both hostile requests are being analysed (one per worker, or two on one)
        good = []
        for round_no in range(3):
            good += [pool.submit(timed, lambda c=c: post(base, json={"content": c})) for c in ordinary]
            time.sleep(0.3)
        bad_results = [f.result(timeout=60) for f in bad]
        good_results = [f.result(timeout=60) for f in good]

    for r, started, ended in bad_results:
        assert r.status_code == 504, r.text[:200]
        assert r.json()["error"] == "timeout" and r.json()["request_id"]
        assert TIMEOUT - 0.2 <= ended - started < TIMEOUT + 3, ended - started
    first_bad_answer = min(ended for _, _, ended in bad_results)
    assert all(r.status_code == 200 for r, _, _ in good_results), [r.status_code for r, _, _ in good_results]
    # answered while the hostile requests were still running
    assert sum(ended < first_bad_answer for _, _, ended in good_results) >= 3

    # the workers are the same, and none was killed for silence
    time.sleep(0.5)
    assert requests.get(base + "/health", timeout=5).status_code == 200
    assert server.worker_pids() == pids
    assert "WORKER TIMEOUT" not in server.log_text()
    samples = scrape(base)
    assert total(samples, "clinical_bdd_rejected_requests_total", reason="timeout") == 2
    assert total(samples, "clinical_bdd_http_requests_total", endpoint="/api/v1/analyze", status="200") == len(good_results)


def test_malformed_input_through_gunicorn_is_4xx_json(gunicorn_server):
    server = start(gunicorn_server)
    base = server.base
    json_type = {"Content-Type": "application/json"}
    cases = [
        ("[" * 100_000, json_type, 400),
        ('{"a":' * 5_000, json_type, 400),
        ('{"content": "In adults, metformin is recommended \\ud800. A"}', {**json_type, "Accept": "text/x-gherkin"}, 400),
        ('{"content": "In adults, metformin is recommended. A", "title": null}', json_type, 400),
        ('{"content": "In adults, metformin is recommended. A", "specialty": null}', json_type, 400),
        ("{not json", json_type, 400),
        (bytes(range(256)) * 8, json_type, 400),
        ('{"content": ""}', json_type, 400),
        ('{"content": 5}', json_type, 400),
        ('{"content": "x"}', {"Content-Type": "text/plain"}, 415),
    ]
    for body, headers, status in cases:
        r = post(base, data=body, headers=headers)
        assert r.status_code == status, (str(body)[:40], r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("application/json") and r.json()["request_id"]
    r = requests.put(base + "/api/v1/analyze", json={"content": "x"}, timeout=10)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"

    content = "In adults with type 2 diabetes, met\x00formin is \u202erecommended\u202c as initial therapy. A\n"
    r = post(base, json={"content": content})
    assert r.status_code == 200
    body = r.json()
    assert "\x00" not in body["feature"] and "\u202e" not in body["feature"]
    assert any("control character" in w for w in body["warnings"])
    r = post(base, json={"content": content}, headers={"Accept": "text/x-gherkin"})
    assert r.status_code == 200 and "\u202e" not in r.text and "metformin" in r.text
    assert "WORKER TIMEOUT" not in server.log_text()
    assert not [rec for rec in server.log_records() if rec.get("levelname") == "ERROR" or rec.get("level") == "error"]
