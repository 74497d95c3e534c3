"""The guest's serial console: drained into a log file and a bounded in-memory line list.

The serial console is the source of truth for the kernel log: a reader thread
drains it continuously into `console.log` (each line prefixed with the host
time since QEMU started) whatever the transport, and callers wait on it for
a line matching a pattern (a marker, a panic, the end of the stream).

The lines in memory are a ConsoleLines (harness/vm/console_lines.py): a
guest flooding its console keeps the harness within a memory budget, with
the harness's markers and the kernel reports kept. A log file the disk
refuses (full) stops being written; the lines in memory go on.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pexpect

from harness.vm.console_lines import ConsoleLines

KERNEL_LINE = re.compile(r"^\s*\[\s*\d+\.\d+\]")
PANIC = "Kernel panic - not syncing"
HOST_STAMP = re.compile(r"^\[host \+[\d.]+\] ")


class Console:
    """Drains QEMU's console into a log file and an in-memory line list."""

    def __init__(self, child: pexpect.spawn, log_path: Path, seed: list[str] | None = None):
        self.child = child
        self.lines = ConsoleLines()
        self.log_error: OSError | None = None   # console.log could not be written (disk full)
        self.t0 = time.monotonic()
        self.cond = threading.Condition()
        self.eof = False
        self.panic_line: int | None = None
        self.notes: set[int] = set()        # indices of the harness's own lines (note())
        self._partial = ""
        self._log = open(log_path, "w", buffering=1, errors="replace")
        for line in seed or []:
            # a restored guest's log starts with the boot its snapshot saved
            self._write(line + "\n")
            self.lines.append(HOST_STAMP.sub("", line, count=1))
        self._stop = False
        self._thread = threading.Thread(target=self._pump, name="console", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._stop:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError, ValueError):
                break
            self._feed(data)
        if self._partial:
            self._feed("\n")
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def _feed(self, data: str) -> None:
        data = self._partial + data.replace("\r", "")
        *complete, self._partial = data.split("\n")
        if not complete:
            return
        stamp = time.monotonic() - self.t0
        with self.cond:
            for line in complete:
                self._write(f"[host +{stamp:.3f}] {line}\n")
                if self.panic_line is None and PANIC in line:
                    self.panic_line = len(self.lines)
                self.lines.append(line)
            self.cond.notify_all()

    def note(self, text: str) -> None:
        """A harness line in the console log (not a kernel line, not command output)."""
        stamp = time.monotonic() - self.t0
        with self.cond:
            self._write(f"[host +{stamp:.3f}] {text}\n")
            self.notes.add(len(self.lines))
            self.lines.append(text)

    def _write(self, text: str) -> None:
        """Into console.log; a write the disk refuses ends the file, not the console."""
        if self._log.closed or self.log_error is not None:
            return
        try:
            self._log.write(text)
        except OSError as exc:
            self.log_error = exc

    def wait_for(self, pattern: re.Pattern, start: int, timeout: float,
                 stop_on_panic: bool = True, scan_from: int | None = None) -> tuple[str, int, re.Match | None]:
        """Wait for a line matching pattern at index >= start (a panic at >= start ends the wait).

        Returns (state, index, match) with state "match", "panic", "eof" or "timeout"; on a
        timeout the index is where the scan stopped: pass it as `scan_from` to go on waiting.
        """
        deadline = time.monotonic() + timeout
        pos = start if scan_from is None else max(start, scan_from)
        with self.cond:
            while True:
                for i, line in self.lines.iter_from(pos):
                    m = pattern.search(line)
                    if m:
                        return "match", i, m
                pos = max(pos, len(self.lines))
                if stop_on_panic and self.panic_line is not None and self.panic_line >= start:
                    return "panic", self.panic_line, None
                if self.eof:
                    return "eof", pos, None
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout", pos, None
                self.cond.wait(min(left, 0.5))

    def wait_quiet(self, quiet: float, cap: float) -> bool:
        """Wait until no line has come for `quiet` seconds (True), or `cap` seconds passed."""
        end = time.monotonic() + cap
        with self.cond:
            seen, since = len(self.lines), time.monotonic()
            while not self.eof:
                now = time.monotonic()
                if len(self.lines) != seen:
                    seen, since = len(self.lines), now
                if now - since >= quiet:
                    return True
                if now >= end:
                    return False
                self.cond.wait(min(0.2, quiet))
            return True

    def wait_eof(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.eof and time.monotonic() < deadline:
                self.cond.wait(0.2)
            return self.eof

    def stop(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        if not self._log.closed:
            try:
                self._log.flush()
            except OSError as exc:
                self.log_error = self.log_error or exc

    def close(self) -> None:
        self.stop()
        try:
            self._log.close()
        except OSError as exc:
            self.log_error = self.log_error or exc
