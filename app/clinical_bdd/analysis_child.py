"""The loop of one analysis child process (clinical_bdd/isolation.py), and the
tasks it runs. Importing this module is cheap: the worker imports it to name
``serve`` as the child's target; the pipeline is imported in the child.
"""
from __future__ import annotations

import signal
import time


def _analyze(content: str, specialty: str | None, title: str | None, deadline: float | None = None) -> dict:
    from .service import analyze

    # metrics are recorded by the worker from the answer (service.record_metrics)
    return analyze(content, specialty=specialty, title=title, deadline=deadline, record_metrics=False)


def _pdf_text(data: bytes, deadline: float | None = None) -> str:
    from .pdf_text import pdf_to_text

    return pdf_to_text(data)


TASKS = {"analyze": _analyze, "pdf_text": _pdf_text}


def _picklable(exc: BaseException) -> BaseException:
    """The exception as the worker can receive it: known kinds as themselves,
    anything else as a RuntimeError naming its type (never the input)."""
    from .gherkin_writer import InvalidGherkin
    from .model import GenerationTimeout
    from .pdf_text import InvalidPdf

    if isinstance(exc, GenerationTimeout):
        return GenerationTimeout()
    if isinstance(exc, InvalidPdf):
        return InvalidPdf(str(exc))
    if isinstance(exc, InvalidGherkin):
        return InvalidGherkin("the generated feature failed Gherkin validation")
    return RuntimeError(f"analysis failed: {type(exc).__name__}")


def serve(conn) -> None:
    """Answer tasks until the worker closes its end of the pipe."""
    from . import child_preload  # noqa: F401  (already imported by the forkserver)
    from .isolation import CHILD_GRACE_SECONDS

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C and gunicorn's signals are the worker's
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the deadline timer ends the process
    while True:
        try:
            task, args, deadline = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - time.monotonic()) + CHILD_GRACE_SECONDS)
        try:
            reply = ("ok", TASKS[task](*args, deadline=deadline))
        except Exception as exc:  # noqa: BLE001  (sent to the worker, raised there)
            reply = ("error", _picklable(exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            conn.send(reply)
        except (OSError, EOFError):
            return
