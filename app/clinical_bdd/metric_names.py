"""Print every metric name the app exports, one per line.

    cd app && .venv/bin/python -m clinical_bdd.metric_names

Includes family names and the sample names as exposed (…_total, …_bucket,
…_count, …_sum). Other engineers' tests read the names through this command.
"""
from __future__ import annotations

import os
import sys


def main() -> int:
    # Listing names must not touch (or require) a multiprocess metrics directory.
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    os.environ.pop("prometheus_multiproc_dir", None)
    from .metrics import exposed_names

    sys.stdout.write("\n".join(exposed_names()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
