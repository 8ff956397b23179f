"""``python -m bench`` (``make bench``): both benchmarks, one after the other.

(a) the gateway's cost against the service asked directly;
(b) the event pipeline against raw JetStream publish -> consume.
Each prints its own ratio, measured against a baseline taken in the same run.
"""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    status = 0
    for module in ("bench.gateway_bench", "bench.pipeline_bench", "bench.registry_bench"):
        print(f"== {module}", flush=True)
        status |= subprocess.call([sys.executable, "-m", module])
    return status


if __name__ == "__main__":
    raise SystemExit(main())
