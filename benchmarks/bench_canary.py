#!/usr/bin/env python3
"""Canary figure: the whole canary of one build (target <= 40 s under TCG).

    python benchmarks/bench_canary.py [VARIANT] [--profile P]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.build.kernel import ensure_build  # noqa: E402
from harness.run.canary import canary_for_build  # noqa: E402
from harness.core.config import load_config  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("variant", nargs="?")
    ap.add_argument("--profile")
    args = ap.parse_args()
    cfg = load_config()
    build = ensure_build(cfg, cfg.variant(args.variant), cfg.profile(args.profile))
    t0 = time.monotonic()
    rows = canary_for_build(cfg, build, force=True, log=lambda m: None)
    took = time.monotonic() - t0
    seen = sum(r["seen"] for r in rows)
    print(f"canary {build.variant}/{build.profile}: {took:.1f} s for {len(rows)} classes, "
          f"{seen} seen (target <= 40 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
