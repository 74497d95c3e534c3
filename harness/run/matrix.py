"""The matrix: variants × profiles × scenarios, run in one command.

Stages: expand configs/matrix.yaml into cells; build what is missing (one
build per variant/profile, one build at a time: a build already uses every
core); canary each build; then run cells in guests, several scenarios per
boot while the kernel stays untainted, restarting after any report or taint
so each cell's result does not depend on its neighbours.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.config import HarnessConfig
from harness.core.errors import ConfigError, InputError
from harness.core.yamlschema import Field, ListOf, Record, Str, load
from harness.run.keyword import compile_keywords
from harness.scenarios.spec import load_scenarios

# taint flags that mean the kernel is no longer trustworthy for the next scenario
# (O = out-of-tree module and E = unsigned module are expected here)
BAD_TAINT = {"D": 7, "W": 9, "B": 5, "L": 14, "M": 4, "U": 6}


@dataclass(frozen=True)
class Cell:
    variant: str
    profile: str
    scenario: str

    @property
    def id(self) -> str:
        return f"{self.variant}.{self.profile}.{self.scenario}"


@dataclass
class Matrix:
    variants: list[str]
    profiles: list[str]
    scenarios: list[str]
    include: list[dict]
    exclude: list[dict]
    file: str = ""

    def cells(self, scenarios_all: dict | None = None) -> list[Cell]:
        out = []
        for v in self.variants:
            for p in self.profiles:
                for s in self.scenarios:
                    c = Cell(v, p, s)
                    if not any(_rule_matches(r, c) for r in self.exclude):
                        out.append(c)
        for r in self.include:
            for v in _expand(r.get("variant", "*"), self.all_variants):
                for p in _expand(r.get("profile", "*"), self.all_profiles):
                    for s in _expand(r.get("scenario", "*"), self.all_scenarios):
                        c = Cell(v, p, s)
                        if c not in out:
                            out.append(c)
        return out

    all_variants: list[str] = field(default_factory=list)
    all_profiles: list[str] = field(default_factory=list)
    all_scenarios: list[str] = field(default_factory=list)


def _expand(pattern: str, names: list[str]) -> list[str]:
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def _rule_matches(rule: dict, c: Cell) -> bool:
    return all(fnmatch.fnmatchcase(getattr(c, k), rule[k]) for k in ("variant", "profile", "scenario")
               if k in rule)


def load_matrix(cfg: HarnessConfig, path: Path | None = None, scenarios: dict | None = None) -> Matrix:
    path = Path(path or cfg.matrix_file)
    rule = Record({"variant": Field(Str()), "profile": Field(Str()), "scenario": Field(Str())})
    spec = Record({
        "variants": Field(ListOf(Str(), scalar_ok=True), default=lambda: ["*"]),
        "profiles": Field(ListOf(Str(), scalar_ok=True), default=lambda: [cfg.default_profile]),
        "scenarios": Field(ListOf(Str(), scalar_ok=True), default=lambda: ["*"]),
        "include": Field(ListOf(rule), default=list),
        "exclude": Field(ListOf(rule), default=list),
    })
    data = load(path, spec)
    scenarios = scenarios if scenarios is not None else load_scenarios(cfg)
    # the configured variants: not a gated series or a bisection prefix registered since
    names = {"variants": [n for n, v in cfg.variants.items() if v.configured], "profiles": list(cfg.profiles),
             "scenarios": list(scenarios)}
    chosen = {}
    for key, known in names.items():
        picked = []
        for i, pat in enumerate(data[key]):
            hits = _expand(pat, known) or [s for s in known if key == "scenarios" and pat in scenarios[s].tags]
            if not hits:
                raise ConfigError(f"{pat!r} matches no {key[:-1]} (known: {', '.join(known) or 'none'})",
                                  file=str(path), key=f"{key}[{i}]", line=data["_line"])
            picked += [h for h in hits if h not in picked]
        chosen[key] = picked
    for kind in ("include", "exclude"):
        for i, r in enumerate(data[kind]):
            for k, known in (("variant", names["variants"]), ("profile", names["profiles"]),
                             ("scenario", names["scenarios"])):
                if r.get(k) and not _expand(r[k], known):
                    raise ConfigError(f"{r[k]!r} matches no {k}", file=str(path), key=f"{kind}[{i}].{k}",
                                      line=r["_line"])
    return Matrix(chosen["variants"], chosen["profiles"], chosen["scenarios"],
                  [{k: v for k, v in r.items() if k != "_line" and v} for r in data["include"]],
                  [{k: v for k, v in r.items() if k != "_line" and v} for r in data["exclude"]],
                  str(path), names["variants"], names["profiles"], names["scenarios"])


def select(cells: list[Cell], expressions: list[str] | None, scenarios: dict) -> list[Cell]:
    """-k: the cells every expression selects (harness.run.keyword has the language)."""
    if not expressions:
        return cells
    match = compile_keywords(expressions)
    return [c for c in cells
            if match(c.id, tuple(scenarios[c.scenario].tags) if c.scenario in scenarios else ())]


# What a shard pays once per build besides its cells (build from ccache, canary,
# first boot): it keeps LPT from stacking small builds on one shard.
BUILD_OVERHEAD_S = 120.0


def cell_cost(cell: Cell, scenarios: dict) -> float:
    """A cell's likely length, from its scenario's step timeouts.

    An estimate only, shared by the runner (which cells a worker takes first)
    and shard() (balancing the shards)."""
    sc = scenarios.get(cell.scenario)
    return float(sum(st.timeout_s or sc.timeout_s for st in sc.steps)) if sc else 0.0


def parse_shard(spec: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec)
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise InputError(f"--shard {spec!r}: expected K/N with 1 <= K <= N")
    return int(m.group(1)), int(m.group(2))


def shard(cells: list[Cell], spec: str | None, scenarios: dict | None = None) -> list[Cell]:
    """--shard K/N: the K-th of N slices of the cells, split by build.

    A shard builds only the kernels its cells need: whole builds go to shards,
    heaviest first, each to the shard with the least estimated time so far
    (LPT), so with at least as many builds as shards no build is made twice.
    With fewer builds than shards the heaviest builds are halved (by
    estimated time) until every shard has one part. Every shard computes the
    same split from the same cells (ties broken by name), so the N shards are
    disjoint and together are the run. Cells keep their order.
    """
    if not spec:
        return cells
    k, n = parse_shard(spec)
    return partition(cells, n, scenarios or {})[k - 1]


def partition(cells: list[Cell], n: int, scenarios: dict) -> list[list[Cell]]:
    """The N shards of shard(): lists of cells, grouped by build, balanced by cost."""
    cost = {c: cell_cost(c, scenarios) for c in cells}
    groups: dict[tuple[str, str], list[Cell]] = {}
    for c in cells:
        groups.setdefault((c.variant, c.profile), []).append(c)
    parts = [(key, group) for key, group in sorted(groups.items())]

    def weight(part) -> float:
        return BUILD_OVERHEAD_S + sum(cost[c] for c in part[1])

    # fewer builds than shards: split the heaviest part in two, alternating its
    # cells by cost so both halves get long and short ones
    while len(parts) < n:
        heavy = max(parts, key=lambda p: (len(p[1]) > 1, weight(p), p[0]))
        if len(heavy[1]) < 2:
            break                      # fewer cells than shards: some shards stay empty
        parts.remove(heavy)
        ordered = sorted(heavy[1], key=lambda c: (-cost[c], c.id))
        parts += [(heavy[0], ordered[0::2]), (heavy[0], ordered[1::2])]
    loads = [0.0] * n
    shards: list[list[Cell]] = [[] for _ in range(n)]
    for part in sorted(parts, key=lambda p: (-weight(p), p[0], p[1][0].id)):
        i = min(range(n), key=lambda j: (loads[j], j))
        loads[i] += weight(part)
        shards[i] += part[1]
    position = {c: i for i, c in enumerate(cells)}
    return [sorted(s, key=position.__getitem__) for s in shards]


def taint_is_bad(value: int) -> list[str]:
    return [flag for flag, bit in BAD_TAINT.items() if value & (1 << bit)]
