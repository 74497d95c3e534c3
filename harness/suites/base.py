"""The types a suite is made of (see harness/suites/__init__.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from harness.model.cell import Subtest

# reads a file of the built kernel's source tree (path relative to the tree); None if absent
SourceReader = Callable[[str], "str | None"]


@dataclass
class ParsedStep:
    subtests: list[Subtest] = field(default_factory=list)
    failure: str | None = None       # why the step failed, None when every subtest is fine


@dataclass(frozen=True)
class StepParser:
    name: str
    # (step output, the step's kernel log lines) -> per-subtest results
    parse: Callable[[str, list[str]], ParsedStep]
    # on a timeout: which subtest was running, from the kernel log so far
    where_hung: Callable[[list[str]], "str | None"] | None = None


@dataclass(frozen=True)
class FeatureProbe:
    name: str
    description: str
    probe: Callable[[SourceReader], bool]


@dataclass(frozen=True)
class Suite:
    name: str
    features: tuple[FeatureProbe, ...] = ()
    parsers: tuple[StepParser, ...] = ()
