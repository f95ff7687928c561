"""Prometheus metrics (prometheus_client), correct under several gunicorn workers.

When PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py sets it before workers
start), every worker writes its values to mmap files in that directory and
each scrape builds a fresh CollectorRegistry with a MultiProcessCollector.
Without it (tests with app.test_client()) the app's own registry is used.

Other teams' dashboards and alerts depend on these exact names.
"""
from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

try:  # _created samples are not exported in multiprocess mode; keep both modes alike
    from prometheus_client import disable_created_metrics

    disable_created_metrics()
except ImportError:  # pragma: no cover
    pass

PREFIX = "clinical_bdd_"

# 5 ms .. 300 s (the request timeout), including 1, 5 and 10 s.
DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "clinical_bdd_http_requests_total",
    "HTTP requests handled, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "clinical_bdd_http_request_duration_seconds",
    "HTTP request duration in seconds, by endpoint and method.",
    ["endpoint", "method"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "clinical_bdd_http_requests_in_flight",
    "HTTP requests currently being processed by this replica.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
MAX_CONCURRENT = Gauge(
    "clinical_bdd_max_concurrent_requests",
    "Configured maximum of concurrent requests per replica.",
    multiprocess_mode="livemax",
    registry=REGISTRY,
)
SCENARIOS_GENERATED = Counter(
    "clinical_bdd_scenarios_generated_total",
    "Gherkin scenarios generated.",
    registry=REGISTRY,
)
GENERATION_DURATION = Histogram(
    "clinical_bdd_generation_duration_seconds",
    "Time to extract recommendations and generate the Gherkin feature.",
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
REJECTED = Counter(
    "clinical_bdd_rejected_requests_total",
    "Requests rejected before or during processing, by reason.",
    ["reason"],
    registry=REGISTRY,
)
BUILD_INFO = Gauge(
    "clinical_bdd_build_info",
    "Build information; the value is always 1.",
    ["version"],
    multiprocess_mode="livemax",
    registry=REGISTRY,
)

REJECT_REASONS = (
    "concurrency_limit",
    "body_too_large",
    "unsupported_media_type",
    "invalid",
    "timeout",
)


def multiprocess_dir() -> str | None:
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
    return path or None


def init_static(version: str, max_concurrent: int) -> None:
    BUILD_INFO.labels(version=version).set(1)
    MAX_CONCURRENT.set(max_concurrent)


def render() -> tuple[bytes, str]:
    """Return (body, content type) of a scrape."""
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=path)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def exposed_names() -> list[str]:
    """Every metric name as it appears in the text exposition: the HELP/TYPE
    family names and the sample names (_total, _bucket, _count, _sum)."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(
                {family.name, family.name + "_bucket", family.name + "_count", family.name + "_sum"}
            )
        else:
            names.add(family.name)
    return sorted(names)
