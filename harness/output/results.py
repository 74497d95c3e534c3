"""Run results on disk: results/<run-id>/ with summary.json, junit.xml, summary.md
and one folder per cell (console log, kernel log, reports, QEMU command, repro.sh).

Every file is written atomically (temp + rename); summary.json is rewritten
after each cell with `complete: false` until the run ends, so an interrupted
run still leaves every finished cell readable.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from harness.core.errors import InputError
from harness.core.util import read_json, write_atomic, write_json

SCHEMA_VERSION = 1


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{os.getpid() % 10000:04d}"


def safe_name(cell_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", cell_id)


class RunResults:
    def __init__(self, root: Path, run_id: str | None = None, header: dict | None = None):
        self.run_id = run_id or new_run_id()
        self.dir = Path(root) / self.run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.header = header or {}
        self.cells: list[dict] = []
        self.builds: list[dict] = []
        self.started = dt.datetime.now().isoformat(timespec="seconds")
        self._lock = threading.RLock()
        self.closed = False
        self._link_latest(Path(root))

    def _link_latest(self, root: Path) -> None:
        latest = root / "latest"
        tmp = root / f".latest-{os.getpid()}"
        try:
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.run_id)
            os.replace(tmp, latest)
        except OSError:
            pass

    def cell_dir(self, cell_id: str) -> Path:
        d = self.dir / "cells" / safe_name(cell_id)
        d.mkdir(parents=True, exist_ok=True)
        return d

    def add_cell(self, cell: dict, files: dict[str, str] | None = None) -> None:
        with self._lock:
            if self.closed:
                return   # the run already ended (interrupted): a late cell is not recorded
            self._add_cell(cell, files)

    def _add_cell(self, cell: dict, files: dict[str, str] | None) -> None:
        d = self.cell_dir(cell["id"])
        for name, text in (files or {}).items():
            write_atomic(d / name, text)
        cell["dir"] = str(d.relative_to(self.dir))
        write_json(d / "cell.json", cell)
        self.cells = [c for c in self.cells if c["id"] != cell["id"]] + [cell]
        self.write_summary(complete=False)

    def set_builds(self, builds: list[dict]) -> None:
        self.builds = builds
        self.write_summary(complete=False)

    def write_summary(self, complete: bool, exit_status: int | None = None, note: str = "") -> dict:
        with self._lock:
            if exit_status is not None:
                self.closed = True
            return self._write_summary(complete, exit_status, note)

    def _write_summary(self, complete: bool, exit_status: int | None, note: str) -> dict:
        # failed: cells that did not give their expected outcome (an n/a where the
        # variant expects something else included); errors: the harness's own
        # failures (exit status 3); n/a: cells where n/a is the expectation
        totals = {"cells": len(self.cells), "passed": sum(c["passed"] for c in self.cells),
                  "failed": sum(not c["passed"] and not c.get("harness_error") for c in self.cells),
                  "flaky": sum(c.get("flaky", False) for c in self.cells),
                  "n/a": sum(c["outcome"] == "n/a" and c["passed"] for c in self.cells),
                  "errors": sum(bool(c.get("harness_error")) for c in self.cells)}
        summary = {"schema": SCHEMA_VERSION, "run_id": self.run_id, "started": self.started,
                   "finished": dt.datetime.now().isoformat(timespec="seconds") if complete else None,
                   "complete": complete, "note": note, "exit_status": exit_status,
                   **self.header, "builds": self.builds, "totals": totals,
                   "cells": sorted(self.cells, key=lambda c: c["id"])}
        if complete:   # the other files first: a summary.json saying complete is written last
            write_atomic(self.dir / "junit.xml", junit_xml(summary))
            write_atomic(self.dir / "summary.md", summary_md(summary))
        write_json(self.dir / "summary.json", summary)
        return summary


def junit_xml(summary: dict) -> str:
    suites = []
    by_variant: dict[str, list[TestCase]] = {}
    for c in summary["cells"]:
        tc = TestCase(name=c["scenario"], classname=f"{c['variant']}.{c['profile']}",
                      elapsed_sec=c.get("duration_s", 0.0),
                      stdout="\n".join(f"{s['name']}: exit {s['exit_status']} ({s['duration_s']}s)"
                                       for s in c.get("steps", [])))
        if c["outcome"] == "n/a" and c["passed"]:
            tc.add_skipped_info(c.get("detail") or "not applicable")
        elif not c["passed"]:
            reports = c.get("reports", [])
            unexpected = [r for r in reports if not r.get("expected")] or reports
            if unexpected:
                r = unexpected[0]
                tc.add_failure_info(message=f"{r['title']}", output=r.get("text", "") +
                                    f"\n\nexpected: {c['expected']}\n{c.get('why', '')}",
                                    failure_type=c["outcome"])
            elif c["outcome"] == "error":
                tc.add_error_info(message=c.get("detail") or "harness error", error_type="error")
            else:
                tc.add_failure_info(message=c.get("why") or c["outcome"], output=c.get("detail", ""),
                                    failure_type=c["outcome"])
        elif c.get("flaky"):
            tc.stdout = (tc.stdout or "") + f"\nFLAKY: passed after {c.get('attempts')} attempts"
        by_variant.setdefault(f"{c['variant']}.{c['profile']}", []).append(tc)
    for name, cases in sorted(by_variant.items()):
        suites.append(TestSuite(name, cases))
    for b in summary.get("builds", []):
        cases = []
        for row in b.get("canary") or []:
            tc = TestCase(name=f"canary {row['class']}", classname=f"{b['variant']}.{b['profile']}.canary")
            if not row.get("seen"):
                tc.add_failure_info(message=f"kernel cannot report {row['class']}",
                                    output=row.get("detail", ""))
            cases.append(tc)
        if cases:
            suites.append(TestSuite(f"canary.{b['variant']}.{b['profile']}", cases))
    return to_xml_report_string(suites)


OUTCOME_MARK = {"clean": "clean", "report": "REPORT", "check-failed": "CHECK-FAILED", "hang": "HANG",
                "panic": "PANIC", "no-boot": "NO-BOOT", "error": "ERROR", "n/a": "n/a"}


def summary_md(summary: dict) -> str:
    cells = summary["cells"]
    cols = sorted({(c["variant"], c["profile"]) for c in cells})
    rows = sorted({c["scenario"] for c in cells})
    idx = {(c["variant"], c["profile"], c["scenario"]): c for c in cells}
    t = summary["totals"]
    out = [f"# Run {summary['run_id']}", "",
           f"{t['passed']}/{t['cells']} cells as expected, {t['failed']} failed, {t['flaky']} flaky, "
           f"{t['n/a']} n/a" + ("" if summary["complete"] else " — **INCOMPLETE RUN**"), "",
           "| scenario | " + " | ".join(f"{v}/{p}" for v, p in cols) + " |",
           "|---|" + "---|" * len(cols)]
    for s in rows:
        line = [s]
        for v, p in cols:
            c = idx.get((v, p, s))
            if not c:
                line.append("")
                continue
            mark = OUTCOME_MARK.get(c["outcome"], c["outcome"])
            title = c["reports"][0]["title"] if c.get("reports") else ""
            verdict = ("➖" if c["outcome"] == "n/a" else "✅") if c["passed"] else "❌"
            if c.get("flaky"):
                verdict = "⚠️ flaky"
            line.append(f"{verdict} {mark}" + (f": {title}" if title else ""))
        out.append("| " + " | ".join(x.replace("|", "\\|") for x in line) + " |")
    failed = [c for c in cells if not c["passed"]]
    if failed:
        out += ["", "## Failed cells", ""]
        for c in failed:
            out.append(f"- `{c['id']}`: {c.get('why') or c['outcome']} — `harness repro {c['dir']}`")
    for b in summary.get("builds", []):
        if b.get("canary"):
            out += ["", f"## Canary {b['variant']}/{b['profile']}", "", "| class | trigger | seen | title |",
                    "|---|---|---|---|"]
            for r in b["canary"]:
                out.append(f"| {r['class']} | {r['trigger']} | {'yes' if r['seen'] else '**NO**'} | "
                           f"{r.get('title') or ''} |")
    return "\n".join(out) + "\n"


def repro_sh(cell_dir_rel: str = "") -> str:
    return f"""#!/bin/sh
# Reproduce this cell from a checkout of the harness: installs what is
# missing, rebuilds (or reuses) exactly this kernel, re-runs the cell.
#   sh repro.sh [--shell] [--gdb]
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=${{HARNESS_CHECKOUT:-$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || pwd)}}
cd "$top"
make -s deps
exec .venv/bin/harness repro "$here" "$@"
"""


def load_summary(results_dir: Path) -> dict:
    d = Path(results_dir)
    s = read_json(d / "summary.json")
    if s is None:
        raise InputError(f"{d}: no readable summary.json (not a results folder?)")
    return s


def merge_runs(dirs: list[Path], root: Path) -> tuple[RunResults, int]:
    """Join the results folders of shards into one run under root; returns it and its status."""
    parts = [load_summary(Path(d)) for d in dirs]
    cells: list[dict] = []
    seen_ids: set[str] = set()
    builds = {}
    for d, p in zip(dirs, parts):
        for b in p.get("builds", []):
            builds[(b["variant"], b["profile"])] = b
        for c in p["cells"]:
            if c["id"] in seen_ids:
                raise InputError(f"cell {c['id']} is in more than one results folder")
            seen_ids.add(c["id"])
            # cell folders are referenced where they are, not copied
            cells.append(dict(c, dir=str((Path(d) / c["dir"]).resolve())))
    out = RunResults(Path(root), header={k: v for k, v in parts[0].items()
                                          if k in ("inputs", "command", "matrix")})
    out.cells, out.builds = cells, list(builds.values())
    complete = all(p.get("complete") for p in parts)
    status = 3 if any(c.get("harness_error") for c in out.cells) else \
        1 if any(not c["passed"] for c in out.cells) else 0
    out.write_summary(complete=complete, exit_status=status, note=f"merged from {len(parts)} shards")
    return out, status
