#!/usr/bin/env python3
"""Matrix figures: the default matrix end to end (cold or warm), the canary of
one build, and the harness's per-cell overhead (cell time minus the guest's
own step time).

    python benchmarks/bench_matrix.py [--cold] [-k PATTERN]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.build import build_dir  # noqa: E402
from harness.config import cache_root, load_config  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cold", action="store_true", help="wipe builds and ccache first")
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("--results", default=str(ROOT / "results" / "bench"))
    args = ap.parse_args()
    cfg = load_config()
    if args.cold:
        for v in cfg.variants:
            for p in cfg.profiles:
                shutil.rmtree(build_dir(v, p), ignore_errors=True)
        shutil.rmtree(cache_root() / "ccache", ignore_errors=True)
    cmd = [sys.executable, "-m", "harness", "run", "--results", args.results]
    for k in args.k:
        cmd += ["-k", k]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT)
    total = time.monotonic() - t0
    summary = json.loads((Path(args.results) / "latest" / "summary.json").read_text())
    cells = summary["cells"]
    cell_time = sum(c["duration_s"] for c in cells)
    step_time = sum(s["duration_s"] for c in cells for s in c.get("steps", []) if s.get("duration_s"))
    builds = [b for b in summary["builds"]]
    build_time = sum(b.get("duration_s") or 0 for b in builds if b.get("built"))
    print(f"matrix ({'cold' if args.cold else 'as cached'}): {total:.0f} s for {len(cells)} cells "
          f"(exit {proc.returncode}; targets: cold <= 720 s, warm <= 120 s)")
    print(f"  builds run: {sum(1 for b in builds if b.get('built'))}, {build_time:.0f} s")
    print(f"  cells: {cell_time:.0f} s in scenarios, of which {step_time:.0f} s in guest steps")
    ran = [c for c in cells if c.get("steps")]
    if ran:
        over = [(c["duration_s"] - sum(s["duration_s"] or 0 for s in c["steps"])) / max(c["duration_s"], 1e-6)
                for c in ran]
        print(f"  per-cell harness overhead: median {100 * statistics.median(over):.1f}% of cell time "
              f"(target <= 10%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
