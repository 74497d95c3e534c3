"""Progress of a run on the terminal: a rewritten status block on a TTY, one
line per event otherwise (CI logs)."""

from __future__ import annotations

import sys
import threading
import time

from harness.model import CellResult, Outcome


class Reporter:
    """Progress: a rewritten status block on a TTY, one line per event otherwise."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.phase: dict[str, str] = {}
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self._shown = 0

    def event(self, msg: str) -> None:
        with self.lock:
            self._clear()
            self.stream.write(f"[{time.monotonic() - self.t0:6.0f}s] {msg}\n")
            self._draw()

    def set_phase(self, worker: str, phase: str) -> None:
        with self.lock:
            self.phase[worker] = phase
            if self.tty:
                self._clear()
                self._draw()

    def cell_done(self, cell: CellResult) -> None:
        with self.lock:
            self.done += 1
            done = self.done      # read under the lock: two workers may finish at once
            self.failed += 0 if cell.passed else 1
        # an n/a is fine only where it is the expectation: otherwise it FAILs like any other
        verdict = ("n/a" if cell.outcome == Outcome.NA else "ok") if cell.passed else \
            ("ERROR" if cell.harness_error else "FAIL")
        if cell.flaky:
            verdict = "FLAKY"
        title = f" [{cell.reports[0].title}]" if cell.reports else ""
        self.event(f"{done}/{self.total} {verdict:5} {cell.id}: {cell.outcome}{title}"
                   f" ({cell.duration_s:.1f}s)" + ("" if cell.passed else f" — {cell.why}"))

    def _clear(self) -> None:
        if self.tty and self._shown:
            self.stream.write(f"\033[{self._shown}A\033[J")
            self._shown = 0

    def _draw(self) -> None:
        if not self.tty:
            self.stream.flush()
            return
        lines = [f"cells {self.done}/{self.total}, {self.failed} failed, "
                 f"{time.monotonic() - self.t0:.0f}s elapsed"]
        lines += [f"  {w}: {p}" for w, p in sorted(self.phase.items())]
        self.stream.write("\n".join(lines) + "\n")
        self._shown = len(lines)
        self.stream.flush()
