"""Running a scenario's steps on a booted guest: one StepResult per step, one
ScenarioResult per run. Judging the result is harness.run.judge's job."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from harness.model.cell import StepResult
from harness.scenarios.spec import Scenario
from harness.suites import parser
from harness.vm.guest import GuestDied


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
                "steps": [s.to_json() for s in self.steps],
                "reports": [r.to_json() for r in self.reports], "duration_s": round(self.duration_s, 2),
                "tainted": self.tainted}


def run_scenario(guest, scenario: Scenario, step_timeout_default: float = 30.0,
                 scan=None) -> ScenarioResult:
    """Run the steps on a booted guest; the caller scans the console afterwards.

    With `scan` (console lines -> reports), the scenario stops at the first
    step after which the kernel has reported something: the first oops is the
    finding, and steps on a kernel that just oopsed mostly find its debris
    (a lock left held turns the next step into a hang).
    """
    t0 = time.monotonic()
    start = len(guest.console.lines)
    results: list[StepResult] = []
    outcome, detail = "clean", ""
    # budgets are at reference speed; the guest scales them by its slowdown factor
    # (harness/vm/calibrate.py), and a step that got an extension moves the end too
    budget_end = t0 + scenario.timeout_s * guest.slowdown
    for step in scenario.steps:
        left = max(1.0, (budget_end - time.monotonic()) / guest.slowdown)
        timeout = min(step.timeout_s or step_timeout_default, left)
        try:
            res = guest.run(step.run, timeout=timeout, step=step.name)
        except GuestDied as died:
            klog = guest.console.lines[start:] if guest.console else []
            note = died.detail
            where = parser(step.parse).where_hung if step.parse else None
            if where and died.kind == "timeout":
                sub = where(klog)
                if sub:
                    note += f" (hung in selftest {sub})"
            evidence = getattr(died, "evidence", None)
            if evidence is not None:
                note += f"; evidence: {evidence.summary()}"
            results.append(StepResult(step.name, step.run, None, step.expect_exit,
                                      round(time.monotonic() - t0, 2), "", False, note,
                                      evidence=evidence.to_json() if evidence is not None else None))
            outcome = {"timeout": "hang", "panic": "panic", "reset": "panic",
                       "no-boot": "no-boot"}.get(died.kind, "error")
            detail = note
            break
        ok = step.expect_exit is None or res.exit_status == step.expect_exit
        note = "" if ok else f"exit status {res.exit_status}, expected {step.expect_exit}"
        if res.extension:
            budget_end += res.extension_s
            note = "; ".join(filter(None, [note, f"slow, not stuck: {res.extension}"]))
        sr = StepResult(step.name, step.run, res.exit_status, step.expect_exit,
                        round(res.duration_s, 3), res.output[-8000:], ok, note, extension=res.extension)
        if step.parse:
            parsed = parser(step.parse).parse(res.output, res.kernel_log)
            sr.subtests = list(parsed.subtests)
            if parsed.failure:
                sr.ok, sr.note = False, parsed.failure
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
