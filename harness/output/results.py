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

from harness.core.errors import InputError
from harness.core.util import read_json, write_atomic, write_json
from harness.model import CellResult, Outcome
from harness.output.junit import junit_xml
from harness.output.markdown import summary_md

SCHEMA_VERSION = 1


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S") + f"-{os.getpid() % 10000:04d}"


def safe_name(cell_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", cell_id)


class RunResults:
    def __init__(self, root: Path, run_id: str | None = None, header: dict | None = None,
                 link_latest: bool = True):
        self.run_id = run_id or new_run_id()
        self.dir = Path(root) / self.run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.header = header or {}
        self.cells: list[CellResult] = []
        self.builds: list[dict] = []
        self.started = dt.datetime.now().isoformat(timespec="seconds")
        self._lock = threading.RLock()
        self.closed = False
        self.root = Path(root)
        if link_latest:          # a run inside another (a gate's base run) leaves `latest` alone
            self.link_latest()

    def link_latest(self) -> None:
        """Point root/latest at this run."""
        root = self.root
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

    def add_cell(self, cell: CellResult, files: dict[str, str] | None = None) -> None:
        with self._lock:
            if self.closed:
                return   # the run already ended (interrupted): a late cell is not recorded
            self._add_cell(cell, files)

    def _add_cell(self, cell: CellResult, files: dict[str, str] | None) -> None:
        d = self.cell_dir(cell.id)
        for name, text in (files or {}).items():
            write_atomic(d / name, text)
        cell.dir = str(d.relative_to(self.dir))
        write_json(d / "cell.json", cell.to_json())
        self.cells = [c for c in self.cells if c.id != cell.id] + [cell]
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
        cells = sorted(self.cells, key=lambda c: c.id)
        summary = {"schema": SCHEMA_VERSION, "run_id": self.run_id, "started": self.started,
                   "finished": dt.datetime.now().isoformat(timespec="seconds") if complete else None,
                   "complete": complete, "note": note, "exit_status": exit_status,
                   **self.header, "builds": self.builds, "totals": totals(cells),
                   "cells": [c.to_json() for c in cells]}
        if complete:   # the other files first: a summary.json saying complete is written last
            write_atomic(self.dir / "junit.xml", junit_xml(cells, self.builds))
            write_atomic(self.dir / "summary.md", summary_md(summary, cells))
        write_json(self.dir / "summary.json", summary)
        return summary


def totals(cells: list[CellResult]) -> dict:
    """The run's counts. failed: cells that did not give their expected outcome (an n/a
    where the variant expects something else included); errors: the harness's own
    failures (exit status 3); n/a: cells where n/a is the expectation."""
    return {"cells": len(cells), "passed": sum(c.passed for c in cells),
            "failed": sum(not c.passed and not c.harness_error for c in cells),
            "flaky": sum(c.flaky for c in cells),
            "n/a": sum(c.outcome == Outcome.NA and c.passed for c in cells),
            "errors": sum(c.harness_error for c in cells)}


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
    """summary.json of a results folder, as written (cells are dicts; see load_cells)."""
    d = Path(results_dir)
    s = read_json(d / "summary.json")
    if not isinstance(s, dict):
        raise InputError(f"{d}: no readable summary.json (not a results folder?)")
    if not isinstance(s.get("cells"), list):
        raise InputError(f"{d}/summary.json: no `cells` list (not a harness results summary)")
    return s


def load_cells(summary: dict) -> list[CellResult]:
    """The typed cells of a loaded summary (entries that are not objects are skipped)."""
    return [CellResult.from_json(c) for c in summary.get("cells") or [] if isinstance(c, dict) and c.get("id")]


def merge_runs(dirs: list[Path], root: Path) -> tuple[RunResults, int]:
    """Join the results folders of shards into one run under root; returns it and its status."""
    parts = [load_summary(Path(d)) for d in dirs]
    cells: list[CellResult] = []
    seen_ids: set[str] = set()
    builds = {}
    for d, p in zip(dirs, parts):
        for b in p.get("builds", []):
            builds[(b["variant"], b["profile"])] = b
        for c in load_cells(p):
            if c.id in seen_ids:
                raise InputError(f"cell {c.id} is in more than one results folder")
            seen_ids.add(c.id)
            # cell folders are referenced where they are, not copied
            c.dir = str((Path(d) / (c.dir or f"cells/{safe_name(c.id)}")).resolve())
            cells.append(c)
    out = RunResults(Path(root), header={k: v for k, v in parts[0].items()
                                          if k in ("inputs", "command", "matrix")})
    out.cells, out.builds = cells, list(builds.values())
    complete = all(p.get("complete") for p in parts)
    status = 3 if any(c.harness_error for c in out.cells) else \
        1 if any(not c.passed for c in out.cells) else 0
    out.write_summary(complete=complete, exit_status=status, note=f"merged from {len(parts)} shards")
    return out, status
