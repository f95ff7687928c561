"""Per-replica concurrency limit.

Design choice: a cross-process counter made of N lock files (N =
MAX_CONCURRENT_REQUESTS) in a directory shared by all gunicorn workers of the
replica. A request takes a slot with a non-blocking ``flock`` on one free file
and releases it when it ends; if every file is locked the request is answered
503 + Retry-After at once. The kernel drops a flock when its process dies, so
a crashed or timed-out worker never leaks slots. Because any worker may hold
all N slots, gunicorn.conf.py gives each worker N + 2 threads: a worker can
always run N requests and still has spare threads to answer the excess with
503 quickly instead of queuing them.

Without a slot directory (in-process tests) a threading.BoundedSemaphore
gives the same behaviour inside one process.
"""
from __future__ import annotations

import fcntl
import os
import threading

SLOT_DIR_ENV = "CLINICAL_BDD_SLOT_DIR"


class Slot:
    def __init__(self, release):
        self._release = release

    def release(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release()


class ConcurrencyLimiter:
    def __init__(self, limit: int, slot_dir: str | None = None):
        self.limit = limit
        self.slot_dir = slot_dir
        self._sem = threading.BoundedSemaphore(limit)
        if slot_dir:
            os.makedirs(slot_dir, exist_ok=True)
            self._paths = [os.path.join(slot_dir, f"slot-{i}.lock") for i in range(limit)]
            for path in self._paths:
                # O_CREAT without truncation; the files are never written.
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            self._start = os.getpid() % limit  # spread workers' first probes

    @property
    def mode(self) -> str:
        return "cross-process" if self.slot_dir else "in-process"

    def try_acquire(self) -> Slot | None:
        if not self.slot_dir:
            if self._sem.acquire(blocking=False):
                return Slot(self._sem.release)
            return None
        for k in range(self.limit):
            path = self._paths[(self._start + k) % self.limit]
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            except BaseException:
                os.close(fd)
                raise

            def release(fd=fd):
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)

            return Slot(release)
        return None
