"""Per-patch bisection (ktest.pl's patchcheck, with QEMU and the detector):
build prefixes of a variant's patch stack and find the first patch at which a
scenario's outcome changes from what the base gives."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.config import HarnessConfig
from harness.core.errors import InputError
from harness.intake.patches import Patch, read_series
from harness.output.results import RunResults, new_run_id
from harness.run.matrix import Cell
from harness.run.runner import RunOptions
from harness.run.session import run_session
from harness.scenarios.spec import load_scenarios


@dataclass
class BisectRequest:
    variant: str
    scenario: str
    profile: str | None = None
    results_root: Path = Path("results")


@dataclass
class BisectResult:
    patches: list[Patch]
    outcomes: dict[int, str] = field(default_factory=dict)   # prefix length -> outcome
    first_change: int | None = None                          # 1-based patch number

    @property
    def culprit(self) -> Patch | None:
        return self.patches[self.first_change - 1] if self.first_change else None


def bisect(cfg: HarnessConfig, req: BisectRequest, say=print) -> BisectResult:
    variant = cfg.variant(req.variant)
    profile = cfg.profile(req.profile)
    scenarios = load_scenarios(cfg)
    if req.scenario not in scenarios:
        raise InputError(f"unknown scenario {req.scenario!r}")
    patches = [p for s in variant.series for p in read_series(cfg.series_dir, s)]
    if not patches:
        raise InputError(f"variant {variant.name} has no patches to bisect")
    run_id = "bisect-" + new_run_id()
    result = BisectResult(patches)

    def outcome(n: int) -> str:
        if n in result.outcomes:
            return result.outcomes[n]
        name = f"{variant.name}@{n}"
        cfg.variants[name] = dataclasses.replace(variant, name=name, patch_limit=n)
        # expectations are per variant name; a prefix is judged by its raw outcome only
        results = RunResults(req.results_root, run_id=f"{run_id}/prefix-{n:02d}",
                             header={"bisect": {"variant": variant.name, "scenario": req.scenario,
                                                "patches": n}})
        run_session(cfg, [Cell(name, profile.name, req.scenario)], RunOptions(canary=False), scenarios,
                    results, label=f"prefix {n}/{len(patches)}")
        c = next(c for c in results.cells if c.variant == name)
        # the outcome decides; titles are shown (a prefix may oops differently)
        result.outcomes[n] = str(c.outcome)
        titles = sorted(r.title for r in c.reports)
        say(f"  {n:2}/{len(patches)} {('base' if n == 0 else patches[n - 1].describe()):60} -> "
            f"{c.outcome} {titles if titles else ''}")
        return str(c.outcome)

    result.first_change = first_change(len(patches), outcome)
    return result


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
