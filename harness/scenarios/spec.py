"""Scenarios: short scripts of guest steps with the outcome each variant must give.

Declared in configs/scenarios/*.yaml (format in configs/README.md) and loaded
here, checked on load (names, steps, expectations, regexes, known variants,
features and parsers). Running one is harness.scenarios.execute's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.core.config import HarnessConfig
from harness.core.errors import ConfigError
from harness.model.expectation import Expectation
from harness.model.outcome import OUTCOMES
from harness.suites import feature_names, parser_names
from harness.core.yamlschema import Any_, Field, Float, ListOf, Record, Str, load

NAME_RE = r"[a-z0-9][a-z0-9_.-]*"


@dataclass(frozen=True)
class Step:
    name: str
    run: str
    expect_exit: int | None = 0      # None: any status is fine
    timeout_s: float | None = None
    parse: str | None = None         # a step parser of a suite (harness.suites)
    fail_pattern: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    steps: tuple[Step, ...]
    expect: dict
    tags: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    timeout_s: float = 15.0
    file: str = ""
    line: int = 0

    def expectation(self, variant: str) -> Expectation:
        return self.expect.get(variant) or self.expect.get("default") or Expectation("clean")


def _expectation(value, file: str, key: str, line: int) -> Expectation:
    if isinstance(value, str):
        v = value.strip()
        if v.startswith("n/a"):
            return Expectation("n/a", reason=v[3:].lstrip(": ").strip())
        if v not in OUTCOMES:
            raise ConfigError(f"unknown outcome {v!r} (one of {', '.join(OUTCOMES)})", file=file,
                              key=key, line=line)
        return Expectation(v)
    if isinstance(value, dict):
        unknown = set(value) - {"outcome", "kind", "title", "step", "reason"}
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(sorted(unknown))} in expectation",
                              file=file, key=key, line=line)
        outcome = value.get("outcome", "report" if "title" in value or "kind" in value else None)
        if outcome not in OUTCOMES:
            raise ConfigError(f"unknown or missing outcome {outcome!r}", file=file, key=key, line=line)
        title = value.get("title")
        if title:
            try:
                re.compile(title)
            except re.error as exc:
                raise ConfigError(f"title is not a valid regex: {exc}", file=file, key=key + ".title",
                                  line=line) from None
        return Expectation(outcome, value.get("kind"), title, value.get("step"),
                           str(value.get("reason", "")))
    raise ConfigError("expected an outcome name or a mapping", file=file, key=key, line=line)


def _exit(v):
    if v is None or v == "any":
        return None if v == "any" else 0
    if isinstance(v, int):
        return v
    raise ValueError


def _schema(file: str) -> Record:
    step = Record({
        "name": Field(Str(), required=True), "run": Field(Str(), required=True),
        "expect_exit": Field(Any_(), default=0), "timeout_s": Field(Float(0.1)),
        "parse": Field(Str(parser_names())), "fail_pattern": Field(Str()),
    })
    scenario = Record({
        "name": Field(Str(), required=True), "description": Field(Str(), default=""),
        "tags": Field(ListOf(Str()), default=list), "requires": Field(ListOf(Str(feature_names())), default=list),
        "timeout_s": Field(Float(1.0), default=15.0), "steps": Field(ListOf(step), required=True),
        "expect": Field(Any_(), default=None),
    })
    return Record({"scenarios": Field(ListOf(scenario), required=True)})


def load_scenario_file(path: Path, variants=None) -> list[Scenario]:
    f = str(path)
    data = load(path, _schema(f))
    out = []
    for i, s in enumerate(data["scenarios"]):
        key = f"scenarios[{i}]"
        line = s["_line"]
        if not re.fullmatch(NAME_RE, s["name"]):
            raise ConfigError(f"scenario name {s['name']!r} must match {NAME_RE}", file=f,
                              key=key + ".name", line=line)
        steps, seen = [], set()
        for j, st in enumerate(s["steps"]):
            skey = f"{key}.steps[{j}]"
            if st["name"] in seen:
                raise ConfigError(f"duplicate step name {st['name']!r}", file=f, key=skey, line=st["_line"])
            seen.add(st["name"])
            try:
                expect_exit = _exit(st["expect_exit"])
            except ValueError:
                raise ConfigError("expect_exit must be an integer or \"any\"", file=f,
                                  key=skey + ".expect_exit", line=st["_line"]) from None
            if st["fail_pattern"]:
                try:
                    re.compile(st["fail_pattern"])
                except re.error as exc:
                    raise ConfigError(f"not a valid regex: {exc}", file=f, key=skey + ".fail_pattern",
                                      line=st["_line"]) from None
            steps.append(Step(st["name"], st["run"], expect_exit, st["timeout_s"], st["parse"],
                              st["fail_pattern"]))
        expect = {}
        raw = s["expect"] if s["expect"] is not None else {"default": "clean"}
        if not isinstance(raw, dict):
            raw = {"default": raw}
        for variant, value in raw.items():
            if variants is not None and variant != "default" and variant not in variants:
                raise ConfigError(f"expectation for unknown variant {variant!r} (known: "
                                  f"{', '.join(variants)})", file=f, key=f"{key}.expect.{variant}", line=line)
            e = _expectation(value, f, f"{key}.expect.{variant}", line)
            if e.step and e.step not in seen:
                raise ConfigError(f"expectation names unknown step {e.step!r}", file=f,
                                  key=f"{key}.expect.{variant}.step", line=line)
            expect[variant] = e
        out.append(Scenario(s["name"], s["description"], tuple(steps), expect, tuple(s["tags"]),
                            tuple(s["requires"]), s["timeout_s"], f, line))
    return out


def check_declared_features(cfg: HarnessConfig) -> None:
    """A variant's `features:` must name features some suite knows."""
    known = feature_names()
    for v in cfg.variants.values():
        for feat in v.features:
            if feat not in known:
                raise ConfigError(f"unknown feature {feat!r} (known: {', '.join(known)})",
                                  file=str(cfg.file), key=f"variants.{v.name}.features.{feat}", line=v.line)


def load_scenarios(cfg: HarnessConfig) -> dict[str, Scenario]:
    check_declared_features(cfg)
    found: dict[str, Scenario] = {}
    d = cfg.scenarios_dir
    for path in sorted(d.glob("*.yaml")) if d.is_dir() else []:
        for s in load_scenario_file(path, cfg.variants):
            if s.name in found:
                raise ConfigError(f"scenario {s.name!r} is also defined in {found[s.name].file}",
                                  file=str(path), key="scenarios", line=s.line)
            found[s.name] = s
    return found
