"""Suites: what is specific to one body of test content, behind one interface.

The core (scenarios, runner, output) knows no series. What a particular
series or test suite brings plugs in here:

* **feature probes**: what a built kernel offers (e.g. the dma-fence inline
  lock), asked of the built tree's sources; a scenario's `requires:` names
  them, and a variant may declare them in configs/harness.yaml instead;
* **step parsers**: a scenario step's `parse: NAME` turns that step's output
  and kernel log into per-subtest results and, when a subtest failed, the
  reason the step failed.

A new suite is a subpackage exporting a `SUITE` and listed in `_SUITES`.
"""

from __future__ import annotations

from harness.suites import dmafence, kselftest
from harness.suites.base import (FeatureProbe, ParsedStep, SourceReader, StepParser, Subtest, Suite)

__all__ = ["FeatureProbe", "ParsedStep", "SourceReader", "StepParser", "Subtest", "Suite",
           "feature_names", "parser", "parser_names", "probe_features"]

_SUITES: tuple[Suite, ...] = (dmafence.SUITE, kselftest.SUITE)


def feature_names() -> tuple[str, ...]:
    return tuple(f.name for s in _SUITES for f in s.features)


def parser_names() -> tuple[str, ...]:
    return tuple(p.name for s in _SUITES for p in s.parsers)


def parser(name: str) -> StepParser:
    for s in _SUITES:
        for p in s.parsers:
            if p.name == name:
                return p
    raise KeyError(name)


def probe_features(read: SourceReader, declared: dict[str, bool] | None = None) -> dict[str, bool]:
    """Every known feature of a built kernel: declared values win over probes."""
    out = {f.name: bool(f.probe(read)) for s in _SUITES for f in s.features}
    out.update(declared or {})
    return out
