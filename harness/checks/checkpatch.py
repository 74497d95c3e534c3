"""The tree's own scripts/checkpatch.pl --strict on one patch file.

Run from the top of the tree at the series' base (so the script, its
spelling list and const-structs list are the tree's own), with
`--show-types` so every message carries its TYPE. The report is parsed from
checkpatch's default output, one block per message:

    WARNING:AVOID_BUG: Do not crash the kernel unless ...
    #338: FILE: drivers/gpu/drm/drm_crtc.c:161:
    +	BUG_ON(...);

(commit-message messages have `#N:` without FILE). The trailing `total: E
errors, W warnings, C checks` line is cross-checked against the blocks, so
a format this parser does not understand is an error, not a clean patch.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from harness.model.checks import CheckName, CheckResult, Finding, Severity, Status
from harness.core.util import run

SCRIPT = "scripts/checkpatch.pl"
OPTIONS = ("--strict", "--show-types", "--color=never")
_LEVEL = re.compile(r"^(ERROR|WARNING|CHECK):([A-Z0-9_]+): (.*)$")
_HERE = re.compile(r"^#(\d+): (?:FILE: (.+?):(\d+):)?")
_TOTAL = re.compile(r"^total: (\d+) errors, (\d+) warnings, (?:(\d+) checks, )?(\d+) lines checked")
_SEVERITY = {"ERROR": Severity.ERROR, "WARNING": Severity.WARNING, "CHECK": Severity.CHECK}


class CheckpatchFormatError(ValueError):
    """checkpatch's output did not parse (or did not add up)."""


@dataclass(frozen=True)
class Totals:
    errors: int
    warnings: int
    checks: int
    lines: int


def parse(output: str) -> tuple[list[Finding], Totals]:
    findings: list[Finding] = []
    totals: Totals | None = None
    cur: dict | None = None

    def close():
        nonlocal cur
        if cur is not None:
            findings.append(Finding(check=CheckName.CHECKPATCH, file=cur["file"], line=cur["line"],
                                    message="\n".join(cur["msg"]), severity=cur["sev"], kind=cur["type"]))
        cur = None

    for line in output.splitlines():
        m = _LEVEL.match(line)
        if m:
            close()
            cur = {"sev": _SEVERITY[m.group(1)], "type": m.group(2), "msg": [m.group(3).rstrip()],
                   "file": None, "line": None, "here": False}
            continue
        m = _TOTAL.match(line)
        if m:
            close()
            totals = Totals(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), int(m.group(4)))
            continue
        if cur is None:
            continue
        if not line.strip():
            close()
            continue
        m = _HERE.match(line)
        if m and not cur["here"]:
            cur["here"] = True
            if m.group(2):
                cur["file"], cur["line"] = m.group(2), int(m.group(3))
            continue
        if not cur["here"]:
            cur["msg"].append(line.rstrip())   # a message of several lines
        # else: the quoted patch lines
    close()
    if totals is None:
        raise CheckpatchFormatError("no `total: ...` line in checkpatch's output")
    counted = Totals(sum(f.severity is Severity.ERROR for f in findings),
                     sum(f.severity is Severity.WARNING for f in findings),
                     sum(f.severity is Severity.CHECK for f in findings), totals.lines)
    if counted != totals:
        raise CheckpatchFormatError(f"checkpatch says {totals.errors} errors, {totals.warnings} warnings, "
                                    f"{totals.checks} checks; parsed {counted.errors}/{counted.warnings}/"
                                    f"{counted.checks}")
    return findings, totals


def result_from_output(output: str, returncode: int, stderr: str = "") -> CheckResult:
    """The check's verdict from checkpatch's output: FAILED on errors or warnings.

    CHECK-level messages (--strict) are reported but do not fail; the gate
    decides which checks fail it. Output that does not parse is NOT_RUN.
    """
    try:
        findings, totals = parse(output)
    except CheckpatchFormatError as exc:
        tail = (stderr or output).strip().splitlines()[-3:]
        return CheckResult(CheckName.CHECKPATCH, Status.NOT_RUN,
                           reason=f"checkpatch did not run to the end (exit {returncode}): {exc}"
                           + (f"; {' / '.join(tail)}" if tail else ""))
    if returncode not in (0, 1):
        return CheckResult(CheckName.CHECKPATCH, Status.NOT_RUN,
                           reason=f"checkpatch exited {returncode}: {stderr.strip()[-300:]}")
    bad = totals.errors + totals.warnings
    status = Status.FAILED if bad else Status.PASSED
    reason = (f"{totals.errors} errors, {totals.warnings} warnings, {totals.checks} checks"
              if findings else "")
    return CheckResult(CheckName.CHECKPATCH, status, reason=reason, findings=findings)


def check_patch(tree: Path, patch: Path, log_path: Path | None = None) -> CheckResult:
    """checkpatch.pl of `tree` on `patch`; NOT_RUN (with the reason) when it cannot run."""
    t0 = time.monotonic()
    patch = Path(patch).resolve()      # checkpatch runs from the top of the tree
    script = tree / SCRIPT
    if not script.is_file():
        return CheckResult(CheckName.CHECKPATCH, Status.NOT_RUN,
                           reason=f"the tree has no {SCRIPT}: checkpatch cannot run")
    if shutil.which("perl") is None:
        return CheckResult(CheckName.CHECKPATCH, Status.NOT_RUN, reason="perl is not installed")
    proc = run(["perl", str(script), *OPTIONS, "--root", str(tree), str(patch)], cwd=tree, check=False)
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(proc.stdout + (("\n--- stderr ---\n" + proc.stderr) if proc.stderr else ""))
    res = result_from_output(proc.stdout, proc.returncode, proc.stderr)
    res.checked = [patch.name]
    res.log = str(log_path) if log_path else None
    res.duration_s = round(time.monotonic() - t0, 2)
    return res
