"""Malformed and hostile input answers 4xx JSON, never 500 (issue 17), in process."""
from __future__ import annotations

import time

import pytest

from clinical_bdd import create_app
from conftest import parse_feature
from test_api import SAMPLE, assert_json_error

ANALYZE = "/api/v1/analyze"


def post_raw(client, body: bytes | str, **headers):
    return client.post(ANALYZE, data=body, headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"a":' * 5_000,
        '{"content": ' + "[" * 40 + "]" * 40 + "}",
        '{"content": "x", "title": ' + "{" * 2_000 + "}" * 2_000 + "}",
    ],
    ids=["100k-arrays", "5k-objects", "40-arrays-in-content", "2k-objects-in-title"],
)
def test_deep_nesting_is_refused_400(client, body):
    r = post_raw(client, body)
    body = assert_json_error(r, 400)
    assert "nest" in body["message"]


def test_brackets_inside_strings_are_not_nesting(client):
    content = "In adults with type 2 diabetes [" + "[" * 500 + "], metformin is recommended. A\n"
    r = client.post(ANALYZE, json={"content": content})
    assert r.status_code == 200, r.get_json()


def test_depth_scan_is_not_fooled_by_escaped_quotes(client):
    # an unterminated string full of escaped quotes, then brackets: invalid JSON, one linear pass
    r = post_raw(client, '{"content": "' + '\\"[' * 50_000)
    assert_json_error(r, 400)


@pytest.mark.parametrize("accept", ["application/json", "text/x-gherkin"])
@pytest.mark.parametrize("field", ["content", "title", "specialty"])
def test_lone_surrogate_is_refused_400(client, accept, field):
    payload = {"content": SAMPLE}
    payload[field] = payload.get(field, "x") + " \\ud800 "
    body = '{' + ", ".join(f'"{k}": "{v}"' for k, v in ((k, v.replace("\n", "\\n")) for k, v in payload.items())) + "}"
    r = post_raw(client, body, Accept=accept)
    err = assert_json_error(r, 400)
    assert err["field"] == field and "surrogate" in err["message"]


@pytest.mark.parametrize("field", ["title", "specialty"])
def test_null_optional_fields_are_refused_400(client, field):
    err = assert_json_error(client.post(ANALYZE, json={"content": SAMPLE, field: None}), 400)
    assert err["field"] == field


def test_nul_bytes_are_removed_and_said_so(client):
    content = "In adults with type 2 diabetes, met\x00formin is recommended\x00. A\n"
    r = client.post(ANALYZE, json={"content": content})
    assert r.status_code == 200
    body = r.get_json()
    assert "\x00" not in body["feature"] and "metformin" in body["feature"]
    assert any("control character" in w for w in body["warnings"])
    # the span still points into the content as sent
    span = body["recommendations"][0]["span"]
    assert content[span["start"] : span["end"]].replace("\x00", "").startswith("In adults")


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069", "\x07", "\x1b", "\x85", "\x9f", "\x7f"])
def test_bidi_and_control_characters_never_reach_a_step(client, char):
    content = f"In adults with type 2 diabetes, {char}metformin{char} is recommended. A\n"
    r = client.post(ANALYZE, json={"content": content, "title": f"T{char}itle"}, headers={"Accept": "application/json"})
    assert r.status_code == 200
    body = r.get_json()
    assert char not in body["feature"]
    then = [line for line in body["feature"].splitlines() if line.strip().startswith("Then")]
    assert then and all(char not in line for line in then)
    assert body["title"] == "Title"
    assert sum("control character" in w for w in body["warnings"]) == 2
    parse_feature(body["feature"])


def test_tab_newline_carriage_return_and_form_feed_are_kept(client):
    r = client.post(ANALYZE, json={"content": "In adults with type 2 diabetes,\tmetformin is recommended. A\r\n\f"})
    assert r.status_code == 200
    assert not any("control character" in w for w in r.get_json()["warnings"])


def test_content_of_control_characters_only(client):
    r = client.post(ANALYZE, json={"content": "\x00\x01\u202e"})
    assert r.status_code == 200
    assert r.get_json()["recommendation_count"] == 0


def test_isolated_analysis_is_cut_off_at_the_deadline_and_the_next_request_is_served():
    """The child process path in process: a child that overruns is killed (504);
    the next request gets a fresh child."""
    app = create_app({"analysis_isolation": "subprocess", "request_timeout_seconds": 1})
    client = app.test_client()
    from clinical_bdd import isolation

    pool = isolation.get_pool()
    pool.warm(1)  # the forkserver's start (1-5 s on a loaded machine) is not the hostile request's
    killed = pool.killed
    hostile = " ".join("a b c d e f g h" for _ in range(60_000))  # ~1 MB of letter-spaced runs, one unit
    started = time.monotonic()
    err = assert_json_error(client.post(ANALYZE, json={"content": hostile}), 504)
    assert err["error"] == "timeout"
    assert pool.killed == killed + 1
    r = client.post(ANALYZE, json={"content": SAMPLE})
    assert r.status_code == 200 and r.get_json()["recommendation_count"] == 2
    assert time.monotonic() - started < 30
