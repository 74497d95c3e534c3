"""Per-patch bisection (ktest.pl's patchcheck, with QEMU and the detector):
build prefixes of a variant's patch stack and find the first patch at which a
scenario's outcome changes from what the base gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.errors import InputError


def bisect(args) -> int:
    from harness.config import load_config
    from harness.matrix import Cell
    from harness.patches import read_series
    from harness.results import RunResults
    from harness.run_cli import run_cells
    from harness.runner import RunOptions
    from harness.scenarios import load_scenarios

    cfg = load_config(Path(args.config) if args.config else None)
    variant = cfg.variant(args.variant)
    profile = cfg.profile(args.profile)
    scenarios = load_scenarios(cfg)
    if args.scenario not in scenarios:
        raise InputError(f"unknown scenario {args.scenario!r}")
    patches = [p for s in variant.series for p in read_series(cfg.series_dir, s)]
    if not patches:
        raise InputError(f"variant {variant.name} has no patches to bisect")
    from harness.results import new_run_id
    run_id = "bisect-" + new_run_id()
    seen: dict[int, str] = {}

    def outcome(n: int):
        if n in seen:
            return seen[n]
        name = f"{variant.name}@{n}"
        v = dataclasses.replace(variant, name=name, patch_limit=n)
        cfg.variants[name] = v
        # expectations are per variant name; a prefix is judged by its raw outcome only
        results = RunResults(Path(args.results), run_id=f"{run_id}/prefix-{n:02d}",
                             header={"bisect": {"variant": variant.name, "scenario": args.scenario,
                                                "patches": n}})
        run_cells(cfg, [Cell(name, profile.name, args.scenario)], RunOptions(canary=False), scenarios,
                  results, label=f"prefix {n}/{len(patches)}")
        c = next(c for c in results.cells if c["variant"] == name)
        # the outcome decides; titles are shown (a prefix may oops differently)
        seen[n] = c["outcome"]
        titles = sorted(r["title"] for r in c["reports"])
        print(f"  {n:2}/{len(patches)} {('base' if n == 0 else patches[n - 1].describe()):60} -> "
              f"{seen[n]} {titles if titles else ''}")
        return seen[n]

    hi = first_change(len(patches), outcome)
    if hi is None:
        print(f"outcome does not change across the stack: {outcome(0)}")
        return 0
    p = patches[hi - 1]
    print(f"first patch that changes the outcome ({outcome(0)} -> {outcome(hi)}): "
          f"{p.describe()} ({p.subject})")
    return 0


def first_change(n: int, outcome) -> int | None:
    """Smallest k in 1..n with outcome(k) != outcome(0), by bisection (like git
    bisect, it assumes one change point); None when outcome(n) == outcome(0)."""
    base = outcome(0)
    if outcome(n) == base:
        return None
    lo, hi = 0, n        # outcome(lo) == base, outcome(hi) != base
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if outcome(mid) == base:
            lo = mid
        else:
            hi = mid
    return hi
