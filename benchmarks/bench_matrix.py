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

from harness.build.kernel import build_dir  # noqa: E402
from harness.core.config import cache_root, load_config  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cold", action="store_true", help="wipe builds and ccache first")
    ap.add_argument("--source", action="store_true",
                    help="with --cold: also wipe the unpacked kernel source (nothing cached at all)")
    ap.add_argument("-k", action="append", default=[])
    ap.add_argument("-j", "--jobs", type=int, help="passed to harness run (default: its own)")
    ap.add_argument("--results", default=str(ROOT / "results" / "bench"))
    args = ap.parse_args()
    cfg = load_config()
    if args.cold:
        for v in cfg.variants:
            for p in cfg.profiles:
                shutil.rmtree(build_dir(v, p), ignore_errors=True)
        shutil.rmtree(cache_root() / "ccache", ignore_errors=True)
        if args.source:
            shutil.rmtree(cache_root() / "src", ignore_errors=True)
    cmd = [sys.executable, "-m", "harness", "run", "--results", args.results]
    if args.jobs:
        cmd += ["-j", str(args.jobs)]
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
    print(f"matrix ({('cold, source too' if args.source else 'cold') if args.cold else 'as cached'}): {total:.0f} s for {len(cells)} cells "
          f"(exit {proc.returncode}; targets: cold <= 720 s, warm <= 120 s)")
    print(f"  builds run: {sum(1 for b in builds if b.get('built'))}, {build_time:.0f} s")
    print(f"  cells: {cell_time:.0f} s in scenarios, of which {step_time:.0f} s in guest steps")
    ran = [c for c in cells if c.get("steps") and c.get("wall_s")]
    if ran:
        # harness overhead: a worker's time on a cell minus the guest's own work
        # (its steps, and its boot or snapshot restore)
        guest = [sum(s["duration_s"] or 0 for s in c["steps"]) + c.get("boot_s", 0) for c in ran]
        wall = [c["wall_s"] for c in ran]
        over = [max(0.0, w - g) / w for w, g in zip(wall, guest) if w > 0]
        print(f"  worker time on cells: {sum(wall):.0f} s, of which guest steps + boots {sum(guest):.0f} s")
        print(f"  harness overhead: {100 * (1 - sum(guest) / sum(wall)):.1f}% of worker time overall, "
              f"median {100 * statistics.median(over):.1f}% per cell (target <= 10%)")
        booted = [c for c in cells if "boot_s" in c]
        cold = [c["boot_s"] for c in booted if c.get("boot_from") == "cold"]
        warm = [c["boot_s"] for c in booted if c.get("boot_from") == "snapshot"]
        print(f"  guests: {len(cold)} cold boots ({sum(cold):.0f} s), {len(warm)} snapshot restores "
              f"({sum(warm):.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
