"""Analysis in worker-owned child processes, so that no input can cost a
worker more than its own request deadline (issue 17).

Each gunicorn worker owns a small pool of child processes, forked by a
multiprocessing forkserver that the worker starts in gunicorn's
``post_worker_init`` hook (clinical_bdd/child_preload.py is imported there
once: the pipeline and the word list are loaded before any child is forked).
A request takes an idle child (or forks a new one: at most one per request
thread, so a request never waits for another's child), sends it
``(task, args, deadline)`` over a pipe and waits with ``poll(remaining)``. At
the deadline the worker kills the child (SIGKILL) and raises
GenerationTimeout (504); the worker itself never runs the analysis, so it
keeps serving its other requests and its heartbeat, and a later request
simply forks a fresh child.

A child also arms an interval timer at each task's deadline plus a grace
period: should its worker vanish, it still ends on time.

``ANALYSIS_ISOLATION=inline`` runs the analysis in the worker's own thread
(the in-process Flask tests); any other value (default ``subprocess``) uses
the children.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time

from .model import GenerationTimeout

log = logging.getLogger("clinical_bdd.isolation")

ISOLATION_ENV = "ANALYSIS_ISOLATION"
INLINE = "inline"
SUBPROCESS = "subprocess"
# a child still busy this long after its deadline ends itself (SIGALRM)
CHILD_GRACE_SECONDS = 5.0
_PRELOAD = ["clinical_bdd.child_preload"]


def mode_from_env() -> str:
    value = os.environ.get(ISOLATION_ENV, "").strip().lower()
    return INLINE if value == INLINE else SUBPROCESS


class AnalysisCrashed(RuntimeError):
    """The child process died without answering (not a deadline)."""


class _Child:
    def __init__(self, ctx):
        from . import analysis_child

        parent_end, child_end = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(
            target=analysis_child.serve, args=(child_end,), name="clinical-bdd-analysis", daemon=True
        )
        self.proc.start()
        child_end.close()
        self.conn = parent_end

    def kill(self) -> None:
        try:
            self.proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
        self.close(timeout=5)

    def close(self, timeout: float = 1.0) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        try:
            self.proc.join(timeout)
        except (OSError, ValueError, AssertionError):
            pass


class AnalysisPool:
    """Children owned by one process (one gunicorn worker)."""

    def __init__(self, max_idle: int = 2):
        self.max_idle = max(1, max_idle)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(_PRELOAD)
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self.started = 0
        self.killed = 0

    def warm(self, count: int = 1) -> None:
        """Start the forkserver and ``count`` idle children (post_worker_init)."""
        for _ in range(count):
            self._give(self._new())

    def _new(self) -> _Child:
        child = _Child(self._ctx)
        with self._lock:
            self.started += 1
        return child

    def _take(self) -> _Child:
        with self._lock:
            while self._idle:
                child = self._idle.pop()
                if child.proc.is_alive():
                    return child
                child.close(timeout=0)
        return self._new()

    def _give(self, child: _Child) -> None:
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append(child)
                return
        child.close()

    def call(self, task: str, args: tuple, deadline: float):
        """Run ``task`` (see analysis_child.TASKS) in a child; its result, or
        its exception raised again here. GenerationTimeout at the deadline.

        Getting a child (a fork, or the forkserver's start while a worker
        boots) and sending it the input (megabytes through a pipe the child
        drains as it reads) happen in a helper thread, so that the wait for
        the answer is bounded by the deadline from the first moment."""
        if time.monotonic() >= deadline:
            raise GenerationTimeout()
        got_child = threading.Event()
        state: dict = {"abandoned": False}
        state_lock = threading.Lock()

        def take_and_send():
            try:
                child = self._take()
            except BaseException as exc:  # noqa: BLE001  (raised again by the waiting thread)
                state["error"] = exc
                got_child.set()
                return
            with state_lock:
                abandoned = state["abandoned"]
                state["child"] = child
            got_child.set()
            if abandoned:
                child.kill()
                return
            try:
                child.conn.send((task, args, deadline))
            except (OSError, EOFError, ValueError):
                pass  # killed at the deadline, or died: the waiting thread sees EOF

        threading.Thread(target=take_and_send, name="analysis-send", daemon=True).start()
        if not got_child.wait(max(0.0, deadline - time.monotonic())):
            with state_lock:
                state["abandoned"] = True
                child = state.get("child")
            if child is None:
                raise GenerationTimeout()
        if "error" in state:
            raise AnalysisCrashed(f"could not start the analysis process ({type(state['error']).__name__})")
        child = state["child"]
        answered = False
        try:
            try:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not child.conn.poll(remaining):
                    with self._lock:
                        self.killed += 1
                    log.warning("analysis child killed at the request deadline", extra={"child_pid": child.proc.pid})
                    raise GenerationTimeout()
                status, value = child.conn.recv()
            except (EOFError, OSError) as exc:
                raise AnalysisCrashed(f"the analysis process ended without an answer ({type(exc).__name__})") from None
            answered = True
        finally:
            if answered:
                self._give(child)
            else:
                child.kill()
        if status == "ok":
            return value
        raise value

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.close()


_pool: AnalysisPool | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def get_pool() -> AnalysisPool:
    """This process's pool (created on first use; a forked copy starts its own)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool, _pool_pid = AnalysisPool(), os.getpid()
        return _pool


def start_worker_pool(warm: int = 1, notify=None, wait_seconds: float = 60.0) -> None:
    """gunicorn post_worker_init: the forkserver (1-5 s: it imports the pipeline
    and the word list) and a first child, before the worker accepts requests,
    so that a ready worker answers at once. The start runs in a thread while
    ``notify`` (the worker's heartbeat) is called, so that gunicorn's timeout
    does not take the wait for silence; past ``wait_seconds`` the worker serves
    anyway (a request then waits for the same forkserver)."""
    if mode_from_env() == INLINE:
        return
    pool = get_pool()
    done = threading.Event()

    def warm_up():
        started = time.monotonic()
        try:
            pool.warm(warm)
        except Exception:  # pragma: no cover - a request starts them again
            log.exception("could not start the analysis process")
            return
        finally:
            done.set()
        log.info(
            "analysis processes ready",
            extra={"pid": os.getpid(), "duration_ms": round((time.monotonic() - started) * 1000, 3)},
        )

    threading.Thread(target=warm_up, name="analysis-warm-up", daemon=True).start()
    until = time.monotonic() + wait_seconds
    while not done.wait(0.2) and time.monotonic() < until:
        if notify is not None:
            notify()


def run(task: str, args: tuple, deadline: float, mode: str | None = None):
    """Run one task of analysis_child.TASKS under the request deadline."""
    from . import analysis_child

    if (mode or mode_from_env()) == INLINE:
        return analysis_child.TASKS[task](*args, deadline=deadline)
    return get_pool().call(task, args, deadline)
