"""Scenarios: short scripts of guest steps with the outcome each variant must give.

Declared in configs/scenarios/*.yaml (format in configs/README.md). Running
one yields a ScenarioResult; judging it against the variant's expectation
yields passed / failed, or error when the harness itself could not run it.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.yamlschema import Any_, Field, Float, ListOf, Record, Str, load

OUTCOMES = ("clean", "report", "check-failed", "hang", "panic", "no-boot", "error", "n/a")
FEATURES = ("inline_lock", "rcu_ops")
NAME_RE = r"[a-z0-9][a-z0-9_.-]*"


@dataclass(frozen=True)
class Step:
    name: str
    run: str
    expect_exit: int | None = 0      # None: any status is fine
    timeout_s: float | None = None
    parse: str | None = None         # "dmabuf-selftests"
    fail_pattern: str | None = None


@dataclass(frozen=True)
class Expectation:
    outcome: str
    kind: str | None = None
    title: str | None = None         # regex searched in the report title
    step: str | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.outcome == "report":
            s = f"report {self.kind or ''} /{self.title or '.*'}/".replace("  ", " ")
            return s + (f" at {self.step}" if self.step else "")
        return self.outcome

    def classes(self) -> set[str]:
        """Report classes the kernel must be able to emit for this to mean anything."""
        if self.outcome == "clean":
            return {"*"}
        if self.outcome == "report" and self.kind:
            return {self.kind}
        return set()


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
        "parse": Field(Str(("dmabuf-selftests",))), "fail_pattern": Field(Str()),
    })
    scenario = Record({
        "name": Field(Str(), required=True), "description": Field(Str(), default=""),
        "tags": Field(ListOf(Str()), default=list), "requires": Field(ListOf(Str(FEATURES)), default=list),
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


def load_scenarios(cfg: HarnessConfig) -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    d = cfg.scenarios_dir
    for path in sorted(d.glob("*.yaml")) if d.is_dir() else []:
        for s in load_scenario_file(path, cfg.variants):
            if s.name in found:
                raise ConfigError(f"scenario {s.name!r} is also defined in {found[s.name].file}",
                                  file=str(path), key="scenarios", line=s.line)
            found[s.name] = s
    return found


# -- running --------------------------------------------------------------

@dataclass
class StepResult:
    name: str
    command: str
    exit_status: int | None
    expected_exit: int | None
    duration_s: float
    output: str
    ok: bool
    note: str = ""
    subtests: list[dict] = field(default_factory=list)


@dataclass
class ScenarioResult:
    scenario: str
    outcome: str
    detail: str
    steps: list[StepResult]
    reports: list = field(default_factory=list)       # harness.scan.Report
    console_start: int = 0                            # line range in the guest console
    console_end: int = 0
    duration_s: float = 0.0
    tainted: str = ""

    def to_json(self) -> dict:
        return {"scenario": self.scenario, "outcome": self.outcome, "detail": self.detail,
                "steps": [asdict(s) for s in self.steps],
                "reports": [r.to_json() for r in self.reports], "duration_s": round(self.duration_s, 2),
                "tainted": self.tainted}


_ST_RUN = re.compile(r"dma-buf: Running (\S+)")
_ST_FAIL = re.compile(r"dma-buf/(\S+): (\S+) failed with error (-?\d+)")


def parse_dmabuf_selftests(klog: list[str]) -> tuple[list[dict], str | None]:
    """Per-subtest results from the kernel log of a `modprobe dmabuf_selftests` step."""
    tests: dict[str, dict] = {}
    last = None
    for line in klog:
        m = _ST_RUN.search(line)
        if m and "/" in m.group(1):
            last = m.group(1)
            tests[last] = {"name": last, "result": "pass"}
        m = _ST_FAIL.search(line)
        if m:
            name = f"{m.group(1)}/{m.group(2)}"
            tests.setdefault(name, {"name": name})["result"] = f"fail ({m.group(3)})"
    failed = [t["name"] for t in tests.values() if t["result"] != "pass"]
    return list(tests.values()), (f"selftest(s) failed: {', '.join(failed)}" if failed else None)


def last_selftest(klog: list[str]) -> str | None:
    last = None
    for line in klog:
        m = _ST_RUN.search(line)
        if m and "/" in m.group(1):
            last = m.group(1)
    return last


def run_scenario(guest, scenario: Scenario, features: dict[str, bool],
                 step_timeout_default: float = 30.0, scan=None) -> ScenarioResult:
    """Run the steps on a booted guest; the caller scans the console afterwards.

    With `scan` (console lines -> reports), the scenario stops at the first
    step after which the kernel has reported something: the first oops is the
    finding, and steps on a kernel that just oopsed mostly find its debris
    (a lock left held turns the next step into a hang).
    """
    from harness.guest import GuestDied

    missing = [f for f in scenario.requires if not features.get(f)]
    if missing:
        return ScenarioResult(scenario.name, "n/a",
                              f"kernel lacks {', '.join(missing).replace('_', ' ')}", [])
    t0 = time.monotonic()
    start = len(guest.console.lines)
    results: list[StepResult] = []
    outcome, detail = "clean", ""
    budget_end = t0 + scenario.timeout_s * guest.slowdown
    for step in scenario.steps:
        left = max(1.0, (budget_end - time.monotonic()) / guest.slowdown)
        timeout = min(step.timeout_s or step_timeout_default, left)
        try:
            res = guest.run(step.run, timeout=timeout, step=step.name)
        except GuestDied as died:
            klog = guest.console.lines[start:] if guest.console else []
            note = died.detail
            if step.parse == "dmabuf-selftests" and died.kind == "timeout":
                sub = last_selftest(klog)
                if sub:
                    note += f" (hung in selftest {sub})"
            results.append(StepResult(step.name, step.run, None, step.expect_exit,
                                      round(time.monotonic() - t0, 2), "", False, note))
            outcome = {"timeout": "hang", "panic": "panic", "reset": "panic",
                       "no-boot": "no-boot"}.get(died.kind, "error")
            detail = note
            break
        ok = step.expect_exit is None or res.exit_status == step.expect_exit
        note = "" if ok else f"exit status {res.exit_status}, expected {step.expect_exit}"
        sr = StepResult(step.name, step.run, res.exit_status, step.expect_exit,
                        round(res.duration_s, 3), res.output[-8000:], ok, note)
        if step.parse == "dmabuf-selftests":
            sr.subtests, failure = parse_dmabuf_selftests(res.kernel_log)
            if failure:
                sr.ok, sr.note = False, failure
        if step.fail_pattern:
            pat = re.compile(step.fail_pattern)
            hit = next((l for l in res.kernel_log if pat.search(l)), None)
            if hit:
                sr.ok, sr.note = False, f"kernel log matched {step.fail_pattern!r}: {hit.strip()}"
        results.append(sr)
        if not sr.ok and outcome == "clean":
            outcome, detail = "check-failed", f"step {step.name}: {sr.note}"
        if scan is not None and step is not scenario.steps[-1]:
            found = scan(guest.console.lines[start:])
            if found:
                rest = scenario.steps[scenario.steps.index(step) + 1:]
                for later in rest:
                    results.append(StepResult(later.name, later.run, None, later.expect_exit, 0.0, "",
                                              True, f"skipped: the kernel reported in step {step.name}"))
                break
    end = len(guest.console.lines) if guest.console else start
    return ScenarioResult(scenario.name, outcome, detail, results, console_start=start,
                          console_end=end, duration_s=time.monotonic() - t0)


def judge(result: ScenarioResult, expect: Expectation) -> tuple[bool, str]:
    """Did the outcome match the expectation? Returns (passed, why)."""
    got = result.outcome
    if expect.outcome == "report":
        if got != "report":
            return False, f"expected {expect.describe()}, got {got}" + (f": {result.detail}" if result.detail else "")
        for r in result.reports:
            if expect.kind and r.kind != expect.kind:
                continue
            if expect.title and not re.search(expect.title, r.title):
                continue
            if expect.step and r.step != expect.step:
                continue
            return True, f"expected report seen: {r.title}"
        titles = "; ".join(f"{r.kind}: {r.title} (step {r.step})" for r in result.reports)
        return False, f"expected {expect.describe()}, got other report(s): {titles}"
    if got == expect.outcome:
        return True, ""
    if got == "report":
        return False, "unexpected report: " + "; ".join(r.title for r in result.reports)
    return False, f"expected {expect.outcome}, got {got}" + (f": {result.detail}" if result.detail else "")
