#!/usr/bin/env python3
"""Build figures: cold debug build of the default variant, a second variant
that only adds the series (ccache), and a no-change rebuild (no make).

    python benchmarks/bench_build.py [--cold]   # --cold wipes build trees and ccache first

Uses HARNESS_CACHE (default ~/.cache/harness). Prints the figures.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.build.kernel import build_dir, ensure_build  # noqa: E402
from harness.core.config import cache_root, load_config  # noqa: E402
from harness.core.util import run  # noqa: E402


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cold", action="store_true", help="wipe build trees and ccache first")
    ap.add_argument("--second", default="inline-lock", help="variant that adds the series")
    args = ap.parse_args()
    cfg = load_config()
    prof = cfg.profile(None)
    first, second = cfg.variant(None), cfg.variant(args.second)
    cache = cache_root()
    if args.cold:
        for v in (first, second):
            shutil.rmtree(build_dir(v.name, prof.name), ignore_errors=True)
        shutil.rmtree(cache / "ccache", ignore_errors=True)
    b1, t1 = timed(lambda: ensure_build(cfg, first, prof))
    b2, t2 = timed(lambda: ensure_build(cfg, second, prof))
    b3, t3 = timed(lambda: ensure_build(cfg, first, prof))
    stats = run(["ccache", "-s"], env={"CCACHE_DIR": str(cache / "ccache")}, check=False).stdout
    print(f"{first.name}/{prof.name} build:            {t1:7.1f} s ({'built' if b1.built else 'cached'}, target cold <= 360 s)")
    print(f"{second.name}/{prof.name} after it (ccache):  {t2:7.1f} s ({'built' if b2.built else 'cached'}, target <= 120 s)")
    print(f"no-change rebuild:                {t3:7.3f} s ({'built' if b3.built else 'no make started'}, target <= 3 s)")
    hits = [l.strip() for l in stats.splitlines() if "hit" in l.lower() or "miss" in l.lower()]
    print("ccache: " + "; ".join(hits[:4]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
