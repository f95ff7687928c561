"""Print every metric name the app exports, one per line.

    python -m clinical_bdd.metric_names

Includes family names and the sample names as exposed (…_total, …_bucket,
…_count, …_sum). Other engineers' tests read the names through this command.
"""
from __future__ import annotations

import sys

from .metrics import exposed_names


def main() -> int:
    sys.stdout.write("\n".join(exposed_names()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
