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
    names = {"variants": list(cfg.variants), "profiles": list(cfg.profiles), "scenarios": list(scenarios)}
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


def select(cells: list[Cell], patterns: list[str] | None, scenarios: dict) -> list[Cell]:
    """-k: a cell is kept when any pattern matches its id (glob or substring) or a tag."""
    if not patterns:
        return cells
    out = []
    for c in cells:
        tags = scenarios[c.scenario].tags if c.scenario in scenarios else ()
        for p in patterns:
            neg = p.startswith("not ")
            pat = p[4:] if neg else p
            hit = (fnmatch.fnmatchcase(c.id, pat) or pat in c.id or pat in tags)
            if hit != neg:
                out.append(c)
                break
    return out


def shard(cells: list[Cell], spec: str | None) -> list[Cell]:
    """--shard K/N: cells spread round-robin by build so each shard builds little."""
    if not spec:
        return cells
    m = re.fullmatch(r"(\d+)/(\d+)", spec)
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise InputError(f"--shard {spec!r}: expected K/N with 1 <= K <= N")
    k, n = int(m.group(1)), int(m.group(2))
    ordered = sorted(cells, key=lambda c: (c.variant, c.profile, c.scenario))
    return [c for i, c in enumerate(ordered) if i % n == k - 1]


def taint_is_bad(value: int) -> list[str]:
    return [flag for flag, bit in BAD_TAINT.items() if value & (1 << bit)]
