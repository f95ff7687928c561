"""Imported first in the analysis child processes (clinical_bdd/isolation.py):
the forkserver of each gunicorn worker imports this module once, so every
child it forks starts with the pipeline imported and SymSpell's word list
loaded. Never imported by a worker itself.

The children never write metrics (the worker records them from the answer), so
prometheus_client is kept out of multiprocess mode here: a child's pid must not
leave value files in PROMETHEUS_MULTIPROC_DIR.
"""
import os

os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
os.environ.pop("prometheus_multiproc_dir", None)

from . import clean, pdf_text, service  # noqa: E402,F401  (imported for the children)

clean._segmenter()  # the English word list (~0.6 s), shared copy-on-write by the children
try:  # pdfminer (~0.5 s) for PDF requests
    import pdfminer.high_level  # noqa: F401
    import pdfminer.layout  # noqa: F401
except ImportError:  # pragma: no cover
    pass
