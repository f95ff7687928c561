"""Gunicorn settings, from the environment variables the platform sets.

PORT=3000, GUNICORN_WORKERS=2, GUNICORN_THREADS (derived when absent),
MAX_CONCURRENT_REQUESTS=10, REQUEST_TIMEOUT_SECONDS=300,
GRACEFUL_TIMEOUT_SECONDS=30, LOG_LEVEL=info, PROMETHEUS_MULTIPROC_DIR
(default: a fresh directory under /tmp). Only /tmp needs to be writable.
"""
import os
import shutil
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from clinical_bdd.config import (  # noqa: E402  (stdlib-only imports; no metrics in the master)
    DEFAULT_GRACEFUL_TIMEOUT_SECONDS,
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT_SECONDS,
    DEFAULT_WORKERS,
    env_int,
)
from clinical_bdd.limits import SLOT_DIR_ENV  # noqa: E402
from clinical_bdd.logging_setup import gunicorn_logconfig  # noqa: E402

_TMP = os.environ.get("TMPDIR") or "/tmp"

# prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is imported, so it
# must be in the environment before any worker imports the app. The master
# reads this file before forking; the value stays in os.environ across reloads.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="clinical_bdd_prom_", dir=_TMP)
if not os.environ.get(SLOT_DIR_ENV):
    os.environ[SLOT_DIR_ENV] = tempfile.mkdtemp(prefix="clinical_bdd_slots_", dir=_TMP)

max_concurrent_requests = env_int("MAX_CONCURRENT_REQUESTS", DEFAULT_MAX_CONCURRENT_REQUESTS, minimum=1)

bind = f"0.0.0.0:{env_int('PORT', DEFAULT_PORT, minimum=1)}"
workers = env_int("GUNICORN_WORKERS", DEFAULT_WORKERS, minimum=1)
worker_class = "gthread"
# The concurrency limit is a cross-process counter (clinical_bdd/limits.py):
# one worker may hold every slot of the replica, so each worker gets
# MAX_CONCURRENT_REQUESTS threads plus 2 spare threads that answer the excess
# requests with 503 + Retry-After immediately instead of queuing them.
threads = env_int("GUNICORN_THREADS", 0, minimum=0) or (max_concurrent_requests + 2)
# Work stops at the request timeout: the app enforces REQUEST_TIMEOUT_SECONDS
# per analysis (504); gunicorn kills a worker silent for as long.
timeout = env_int("REQUEST_TIMEOUT_SECONDS", DEFAULT_REQUEST_TIMEOUT_SECONDS, minimum=1)
# SIGTERM: stop accepting, let in-flight requests finish for this long.
graceful_timeout = env_int("GRACEFUL_TIMEOUT_SECONDS", DEFAULT_GRACEFUL_TIMEOUT_SECONDS, minimum=1)
keepalive = 5
# Bodies beyond MAX_BODY_BYTES get 413 from the app; headers are bounded here.
limit_request_line = 8190
limit_request_fields = 100

loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower() or "info"
accesslog = None  # the app writes one JSON access line per request (with request id)
errorlog = "-"
logconfig_dict = gunicorn_logconfig(loglevel)
proc_name = "clinical-bdd-creator"
# Read-only root filesystem: no control socket under $HOME; heartbeat files in /tmp.
control_socket_disable = True
worker_tmp_dir = _TMP


def _empty_dir(path):
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            try:
                os.unlink(full)
            except FileNotFoundError:
                pass


def on_starting(server):
    # Stale metric files from an earlier run would corrupt counters.
    _empty_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    _empty_dir(os.environ[SLOT_DIR_ENV])
    if threads < max_concurrent_requests + 1:
        server.log.warning(
            "GUNICORN_THREADS is below MAX_CONCURRENT_REQUESTS + 1: excess requests may queue "
            "instead of getting an immediate 503"
        )
    server.log.info(
        "starting",
        extra={
            "workers": workers,
            "threads": threads,
            "max_concurrent_requests": max_concurrent_requests,
            "timeout": timeout,
            "graceful_timeout": graceful_timeout,
        },
    )


def post_worker_init(worker):
    # Each worker owns its analysis processes (clinical_bdd/isolation.py): the
    # forkserver and a first child start here, before the worker serves; the
    # heartbeat goes on meanwhile.
    from clinical_bdd import isolation

    isolation.start_worker_pool(notify=worker.notify)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
