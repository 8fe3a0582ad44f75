"""``python -m benchmarks [--quick]``: every figure with its ratio to a baseline from the same run.

Writes ``benchmarks/results/<UTC time>.json`` (and ``latest.json``) and prints a table. ``--quick`` runs
short versions (a smoke test, not figures to quote).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import endtoend, ingest

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--rate", type=float, default=50.0, help="new calls per second (default 50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of arrivals (default 60)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    print("AMI ingest …", flush=True)
    results.append(ingest.run(calls=2_000 if args.quick else 10_000, rounds=1 if args.quick else 5))
    print("end to end (baseline, unloaded IVR, loaded) …", flush=True)
    duration = 8.0 if args.quick else args.duration
    results.extend(endtoend.run(args.rate, duration, baseline_duration=5.0 if args.quick else 20.0))
    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "quick": args.quick,
        "seconds": round(time.monotonic() - started, 1),
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"{stamp}.json").write_text(text + "\n", encoding="utf-8")
    (RESULTS / "latest.json").write_text(text + "\n", encoding="utf-8")
    for result in results:
        print(f"\n== {result['name']} {'OK' if result.get('ok') else 'BELOW TARGET'}")
        for key, value in result.items():
            if key not in ("name", "ok"):
                print(f"  {key}: {value}")
    print(f"\n{len(results)} benchmarks in {report['seconds']} s; results in {RESULTS / (stamp + '.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
