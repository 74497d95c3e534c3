"""The console's lines in memory, by absolute index, within a memory budget.

A guest that floods its console (a module printing in a loop, a step writing
without end) for a step's whole budget used to grow the harness by every
line it printed. Lines are kept as they come until the estimate of their
memory passes a budget (16 MiB, or $HARNESS_CONSOLE_BUDGET bytes); then the
middle is dropped: the first `head` lines (the boot), the last `tail` lines, the harness's own markers
(step frames, READY, notes, the panic line) and the lines of kernel reports
the detector finds there (the first MAX_REPORTS) stay. Indices stay
absolute (len() counts every line ever seen), so callers holding a line
number keep working; a slice over dropped lines holds one placeholder line
per gap saying how many lines it stands for. console.log on disk has them all.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from typing import Iterator

from harness.core.errors import InputError
from harness.detect import scan_bytes

LINE_OVERHEAD = 64                 # bytes of a kept line beyond its characters (str + list slot)
DEFAULT_BUDGET = 16 << 20          # kept lines may take this much before the middle goes
BUDGET_ENV = "HARNESS_CONSOLE_BUDGET"   # bytes; overrides DEFAULT_BUDGET (tests use a small one)
MAX_REPORTS = 64                   # reports whose lines are kept through a flood
MARGIN = 5                         # lines kept either side of a report


def default_budget() -> int:
    text = os.environ.get(BUDGET_ENV)
    if not text:
        return DEFAULT_BUDGET
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 4096:
        raise InputError(f"${BUDGET_ENV}={text!r}: expected a number of bytes >= 4096")
    return value

# the harness's own lines: step frames and end markers, READY, notes, a panic
KEEP = re.compile(r"HARNESS-|^@@[SE] |^harness: |Kernel panic - not syncing")


def placeholder(count: int) -> str:
    return f"harness: {count} console lines not kept in memory (console flood; console.log has them)"


class ConsoleLines:
    """A list-like of console lines: len(), [i], [a:b], iteration, bounded memory."""

    def __init__(self, budget: int | None = None, head: int | None = None, tail: int | None = None):
        self.budget = budget or default_budget()
        # the boot and first cells (head), and what the waiters and the running
        # step look at (tail): an eighth of the budget each, at ~128 bytes a line
        lines = max(100, self.budget // 1024)
        self.head = lines if head is None else head
        self.tail = lines if tail is None else tail
        self._text: list[str] = []        # the kept lines, in order
        self._gaps: list[tuple[int, int]] = []   # (first absolute index, count) of dropped runs
        self._gap_starts: list[int] = []
        self._dropped_before: list[int] = []     # lines dropped before each gap
        self._total = 0                   # lines ever appended
        self._bytes = 0                   # estimate of the kept lines' memory
        self._limit = self.budget         # evict when _bytes passes this
        self._scan_from = self.head       # absolute index the next eviction scans from
        self._reports = 0
        self.dropped = 0
        self.peak_bytes = 0
        self._lock = threading.RLock()

    # -- writing ---------------------------------------------------------------
    def append(self, line: str) -> None:
        with self._lock:
            self._text.append(line)
            self._total += 1
            self._bytes += len(line) + LINE_OVERHEAD
            self.peak_bytes = max(self.peak_bytes, self._bytes)
            if self._bytes > self._limit:
                self._evict()

    def _evict(self) -> None:
        """Drop the unpinned lines of [scan_from, total - tail)."""
        hi = self._total - self.tail
        lo = max(self._scan_from, self.head)
        if hi <= lo:
            self._limit = self._bytes + self.budget // 2
            return
        # the detector over everything from lo on (the tail too, so a report
        # running past hi is seen whole); its line numbers are 1-based
        region = self._slice_kept(lo, self._total)
        keep: set[int] = set()
        rescan = hi
        # (scan_bytes: the detector's prefiltered path, ~4x faster than scan_lines
        # on a flood; the same reports, a few lines of margin around each)
        text = "\n".join(t for _, t in region) + "\n"
        for r in scan_bytes(text.encode("utf-8", "surrogateescape")):
            if self._reports >= MAX_REPORTS:
                break
            s, e = max(r.start_line - 1 - MARGIN, 0), min(r.end_line + MARGIN, len(region))
            first, last = region[s][0], region[e - 1][0]
            if first >= hi:
                continue
            self._reports += 1
            keep.update(a for a, _ in region[s:e])
            if last >= hi - 1:
                rescan = min(rescan, first)   # may go on: the next eviction looks at it again
        dropped: list[int] = []
        for a, text in region:
            if a >= hi:
                break
            if a in keep or KEEP.search(text):
                continue
            dropped.append(a)
        if dropped:
            self._drop(set(dropped))
        self._scan_from = rescan
        self._limit = max(self.budget, self._bytes + self.budget // 2)

    def _drop(self, dropped: set[int]) -> None:
        text, gaps = [], list(self._gaps)
        for a, line in list(self._iter_kept(0)):
            if a in dropped:
                self._bytes -= len(line) + LINE_OVERHEAD
                gaps.append((a, 1))
            else:
                text.append(line)
        gaps.sort()
        merged: list[tuple[int, int]] = []
        for g in gaps:
            if merged and merged[-1][0] + merged[-1][1] == g[0]:
                merged[-1] = (merged[-1][0], merged[-1][1] + g[1])
            else:
                merged.append(g)
        self._text, self._gaps = text, merged
        self.dropped += len(dropped)
        self._gap_starts = [g[0] for g in merged]
        self._dropped_before, n = [], 0
        for g in merged:
            self._dropped_before.append(n)
            n += g[1]

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return self._total

    def __bool__(self) -> bool:
        return self._total > 0

    def __iter__(self) -> Iterator[str]:
        return iter(self[0:self._total])

    def __getitem__(self, key):
        with self._lock:
            if isinstance(key, slice):
                a, b, step = key.indices(self._total)
                if step != 1:
                    raise ValueError("console lines: only contiguous slices")
                if not self._gaps:
                    return self._text[a:b]
                return self._slice(a, b)
            i = key + self._total if key < 0 else key
            if not 0 <= i < self._total:
                raise IndexError("console line index out of range")
            g = self._gap_at(i)
            return placeholder(self._gaps[g][1]) if g is not None else self._text[self._pos(i)]

    def iter_from(self, start: int) -> Iterator[tuple[int, str]]:
        """(absolute index, line) of the kept lines from `start` on, as they are now."""
        with self._lock:
            return iter(self._slice_kept(start, self._total))

    def _slice(self, a: int, b: int) -> list[str]:
        out: list[str] = []
        pos = a
        k = bisect.bisect_right(self._gap_starts, a) - 1
        k = max(k, 0)
        while pos < b:
            gap = self._gaps[k] if k < len(self._gaps) else None
            if gap and gap[0] <= pos < gap[0] + gap[1]:
                end = min(b, gap[0] + gap[1])
                out.append(placeholder(end - pos))
                pos, k = end, k + 1
                continue
            if gap and gap[0] < pos:
                k += 1
                continue
            end = min(b, gap[0]) if gap else b
            p = self._pos(pos)
            out += self._text[p:p + (end - pos)]
            pos = end
        return out

    def _slice_kept(self, a: int, b: int) -> list[tuple[int, str]]:
        out = []
        for i, t in self._iter_kept(a):
            if i >= b:
                break
            out.append((i, t))
        return out

    def _iter_kept(self, start: int) -> Iterator[tuple[int, str]]:
        """(absolute index, line) of every kept line from `start` on (call under the lock)."""
        start = max(start, 0)
        g = self._gap_at(start) if self._gaps else None
        if g is not None:
            start = self._gaps[g][0] + self._gaps[g][1]
        if start >= self._total:
            return
        k = bisect.bisect_right(self._gap_starts, start)   # the next gap after start
        a = start
        for q in range(self._pos(start), len(self._text)):
            while k < len(self._gaps) and self._gaps[k][0] == a:
                a += self._gaps[k][1]
                k += 1
            yield a, self._text[q]
            a += 1

    def _gap_at(self, i: int) -> int | None:
        k = bisect.bisect_right(self._gap_starts, i) - 1
        if k >= 0 and i < self._gaps[k][0] + self._gaps[k][1]:
            return k
        return None

    def _pos(self, i: int) -> int:
        """Position in _text of the kept line with absolute index i."""
        k = bisect.bisect_right(self._gap_starts, i) - 1
        return i if k < 0 else i - self._dropped_before[k] - self._gaps[k][1]
