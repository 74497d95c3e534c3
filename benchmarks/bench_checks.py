#!/usr/bin/env python3
"""Per-patch checks figures: all four checks on a shipped series, warm ccache.

    python benchmarks/bench_checks.py [--series rcu-ops|inline-lock] [--warmup] [--checks a,b]

The series is checked on its variant's base (rcu-ops on the pristine source,
inline-lock on rcu-ops) in the shared source tree, with the checks' objdirs of the debug profile.
--warmup runs the checks once first (fills ccache and the checks objdir;
the first run of a fresh cache is a full cold build). Prints the split
(tree preparation, build, W=1, sparse, checkpatch, analysis), the total, and
each patch's verdicts. Aim: <= 180 s for the 5-patch rcu-ops series.
Uses HARNESS_CACHE (default ~/.cache/harness).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.checks import ALL_CHECKS, check_series  # noqa: E402
from harness.checks.render import series_text  # noqa: E402
from harness.core.config import cache_root, load_config  # noqa: E402
from harness.intake.patches import apply_variant, read_series  # noqa: E402
from harness.intake.source import prepare_source  # noqa: E402

PHASES = ("prepare", "build", "warnings", "sparse", "checkpatch", "analysis")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", default="rcu-ops", choices=("rcu-ops", "inline-lock"))
    ap.add_argument("--profile", default="debug")
    ap.add_argument("--warmup", action="store_true", help="run the checks once before measuring")
    ap.add_argument("--checks", default=",".join(c.value for c in ALL_CHECKS))
    ap.add_argument("-j", "--jobs", type=int, default=None)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the logs here (default: a temp dir)")
    args = ap.parse_args()
    cfg = load_config(ROOT / "configs" / "harness.yaml")
    profile = cfg.profile(args.profile)
    source = prepare_source(cfg.sources[cfg.variant("rcu-ops").source])
    if args.series == "rcu-ops":
        base = source.base_commit
    else:
        v = cfg.variant("rcu-ops")
        base = apply_variant(source, v.name, v.series, cfg.series_dir).commit
    patches = [p.path for p in read_series(cfg.series_dir, args.series)]
    checks = args.checks.split(",")

    def once(workdir: Path):
        t0 = time.monotonic()
        res = check_series(source.repo, base, patches, profile, checks=checks, workdir=workdir,
                           cache=cache_root(), guest_root=cfg.root, jobs=args.jobs, log=lambda m: None)
        return res, time.monotonic() - t0

    with tempfile.TemporaryDirectory(prefix="bench-checks-") as tmp:
        top = args.workdir or Path(tmp)
        if args.warmup:
            _, tw = once(top / "warmup")
            print(f"warm-up run:            {tw:7.1f} s")
        res, total = once(top / "run")
        if args.workdir:
            (top / "run" / "checks.txt").write_text(series_text(res))
            (top / "run" / "checks.json").write_text(json.dumps(res.to_json(), indent=1))
    print(f"series {args.series}: {len(patches)} patches on {base[:12]}, profile {profile.name}, "
          f"checks {','.join(checks)}")
    for phase in PHASES:
        if phase in res.timings:
            print(f"  {phase:<22}{res.timings[phase]:7.1f} s")
    print(f"  {'total':<22}{total:7.1f} s  (aim <= 180 s for rcu-ops)")
    for p in res.patches:
        verdicts = ", ".join(f"{c.value} {r.summary()}" for c, r in p.results.items())
        print(f"  {p.index}. {p.subject[:60]}: {verdicts}")
    for note in res.notes:
        print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
