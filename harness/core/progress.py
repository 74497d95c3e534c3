"""Progress lines for long jobs: one rewritten line on a TTY, a line every few seconds otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total: int | None = None, stream=None, interval: float = 10.0):
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = interval
        self.start = time.monotonic()
        self.count = 0
        self._last = 0.0

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        if self.total:
            pct = min(99, 100 * self.count // max(1, self.total))
            return f"{self.label}: {self.count}/~{self.total} objects ({pct}%), {elapsed:.0f}s"
        return f"{self.label}: {self.count} objects, {elapsed:.0f}s"

    def tick(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if self.tty and now - self._last >= 0.2:
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()
            self._last = now
        elif not self.tty and now - self._last >= self.interval:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last = now

    def done(self, message: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(f"{self.label}: {message} ({time.monotonic() - self.start:.1f}s)\n")
        self.stream.flush()
