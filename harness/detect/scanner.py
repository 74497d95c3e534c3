"""The streaming state machine of the crash detector: lines in, reports out.

Reads console logs or dmesg text and returns one :class:`Report` per kernel
report found, titled the way kernel developers title crashes (syzbot's
convention), with the guilty frame, the module it happened in, the module
last unloaded, the harness step that was running and a de-duplication
signature.  What the reports look like is data in :mod:`harness.detect.formats`;
the modules next to this one hold the rest of the machinery: line prefixes
(:mod:`.prefix`), the prefilter (:mod:`.prefilter`), report headers and their
kernel shape (:mod:`.headers`), titles and frames (:mod:`.titles`,
:mod:`.frames`), module attribution (:mod:`.modules`) and reading files
(:mod:`.files`).

Input is streamed: a chunk of bytes is searched by the prefilter for lines
that may start a report, and only lines near a report are decoded and looked
at, so memory stays bounded whatever the size of the log.
"""

from __future__ import annotations

import io
import re
from typing import Iterable

from harness.detect import formats as F
from harness.detect.assemble import assemble
from harness.detect.headers import EVIDENCE, is_continuation, match_header, needs_evidence
from harness.detect.prefilter import PREFILTER_NEEDLES, PREFILTER_RX, STAMPED
from harness.detect.prefix import STEP, Line, make_line, split_prefix
from harness.detect.report import Report

__all__ = ["Scanner", "scan_text", "scan_lines", "scan_bytes", "scan_range", "CHUNK"]

_MAX_REPORT_LINES = 1500  # lines collected for one report
_GAP = 30                 # unrelated lines in a row that end a report
_IDLE = 400               # input lines without news that end a report
CHUNK = 1 << 20
_UNSTAMPED_KINDS = ("REBOOT", "TOOL")  # printed outside printk: never stamped
_PREFIXED_LOG = 3          # timestamped lines after which unstamped ones are user space

# Lines that look like the body of a report (where a report ends).
_BODY = re.compile(
    r"^(?:\s|\?|<|\[<|-|=|>|#|\*|\(|\||\{|\}|\.\.\.)"
    r"|^[0-9a-fA-F]{8,}|^[0-9a-f]{3,}: "
    r"|^[A-Z]{1,3}[0-9]{0,2}: "
    r"|^(?:page|flags|raw|head|memcg|anon|pc|lr|sp|fp|x[0-9]+|epc|ra|gp|tp|status|badaddr|cause) ?:"
    r"|^(?:Code|Call Trace|Call trace|Hardware name|Workqueue|Modules linked in|CPU|Comm|Tainted|"
    r"Unloaded tainted modules|Stack|Backtrace|Exception stack|Kernel Offset|Rebooting in|"
    r"Dumping ftrace|Read of size|Write of size|The buggy address|Memory state|Allocated by|"
    r"Freed by|Last potentially|Second to last|irq event stamp|hardirqs last|softirqs last|"
    r"stack backtrace|other info that|Possible unsafe|Possible interrupt|Chain exists|"
    r"the existing dependency|but task is already|which lock already|is trying to|lockdep|"
    r"no locks held|\d+ locks? held|NMI backtrace|Sending NMI|rcu:|task:|Uninit was|"
    r"Local variable|Bytes \d|Object 0x|Redzone|Padding|INFO: |Disabling lock debugging|"
    r"unreferenced object|comm \"|backtrace|hex dump|page dumped|page_owner|page last|"
    r"kobject|refcount_t|ODEBUG|list_(?:add|del)|Kernel panic|Oops|BUG|WARNING|"
    r"invalid opcode|general protection|KASAN|Showing|Mem-Info|Node \d|"
    r"#PF|PKRU|DR[0-9]|CR[0-9]|FS:|RIP|RSP|RAX|RDX|RBP|R[0-9]|ORIG_|EFLAGS|"
    r"Instruction dump|Internal error|Process |Tainted:|Not tainted|Register |Stack:|Flags:|"
    r"Control:|LR is at|PC is at|Exception stack|Function entered|Sending|task |\[ *[0-9]+\.)"
)


class _Open:
    """A report being collected."""

    def __init__(self, cls: F.CompiledClass, first: Line, step: str | None, preamble: list[Line],
                 provisional: bool):
        self.cls = cls
        self.ctx = first.ctx
        self.step = step
        self.preamble = preamble
        self.lines: list[Line] = [first]
        self.last_body = first.no
        self.last_seen = first.no
        self.gap = 0
        self.gap_limit = _GAP if first.ctx in ("", "console") else 3 * _GAP
        self.ended = False      # saw "---[ end trace"
        self.tail = False       # another report started in this context
        self.cpu_traceback = False
        self.min_lines = 16 if "BUG: KMSAN:" in first.text else 22
        self.leak_objects = 1 if first.text.startswith("unreferenced object") else 0
        # Free text without a kernel timestamp: a report only if kernel
        # evidence (a trace, a frame, registers) follows (headers.py).
        self.provisional = provisional
        self.has_trace = False  # saw a call trace or a frame
        self.successor: _Open | None = None  # the next report of this context, begun while open
        self.report: Report | None = None

    def accepts(self, line: Line) -> bool:
        if line.ctx == self.ctx:
            return True
        return self.cpu_traceback and line.ctx.startswith("C")

    def continues(self, text: str) -> bool:
        """Does a header line belong to this report rather than start one?"""
        if is_continuation(text) or any(r.search(text) for r in self.cls.continued_by):
            return True
        if text.startswith("unreferenced object") and self.leak_objects == 0 \
                and "memory leak" in self.lines[0].text:
            self.leak_objects = 1
            return True
        return False

    def cut_short(self) -> bool:
        """Was this report cut before its trace, in the middle of a line
        (``is trying to release lock (`` when printing the lock's name
        faulted)?  Without caller ids this is how a report nested in another
        one's printing is told from one of another CPU."""
        if self.has_trace:
            return False
        last = next((ln.text for ln in reversed(self.lines) if ln.text.strip()), "")
        return any(last.count(o) > last.count(c) for o, c in ("()", "[]", "{}"))

    def add(self, line: Line) -> None:
        self.lines.append(line)
        self.last_seen = line.no
        text = line.text
        if "Sending NMI from CPU" in text:
            self.cpu_traceback = True
        if not text.strip():
            return
        if self.provisional and EVIDENCE.search(text):
            self.provisional = False
        if not self.has_trace and ("+0x" in text or "race:" in text):
            self.has_trace = True
        if _BODY.search(text) or line.questionable:
            if not self.tail:
                self.last_body = line.no
            self.gap = 0
        else:
            self.gap += 1


class Scanner:
    """Feed it lines (:meth:`line`) or chunks of bytes (:meth:`chunk`), then
    call :meth:`finish` for the reports."""

    def __init__(self) -> None:
        self.lineno = 0
        self.step: str | None = None
        self.open: list[_Open] = []
        self.reports: list[Report] = []
        self.recent: list[Line] = []  # a few lines before the current one
        self.kernel_prefixed = 0  # timestamped lines seen so far
        self.lookback = None  # (buf, lo, hi, lineno): skipped lines before the current one
        self.pending: list[_Open] = []  # closed reports waiting for their successor's attribution
        self.stamped_seen = False  # a kernel-timestamped line came before the current one
        self.first_text: str | None = None  # the log's first non-empty line

    # -- per line -------------------------------------------------------
    def line(self, raw: str, no: int) -> None:
        ln = make_line(raw, no)
        ctx, text = ln.ctx, ln.text
        if self.open:
            self._expire(no)
        if "HARNESS-STEP" in text:
            m = STEP.search(text)
            if m:
                if not m.group(1):
                    self.step = m.group(2)
                self._close_all()
                self._remember(ln)
                return
        if self.first_text is None and text.strip():
            self.first_text = text
        cls = match_header(text) if text else None
        if cls is not None and cls.spec.kind == "REBOOT" and not self.stamped_seen \
                and F.BOOT_START.search(self.first_text or ""):
            cls = None  # the log's first boot, after its firmware: no kernel ran before
        if ctx:
            self.kernel_prefixed += 1
            self.stamped_seen = True
        provisional = False
        if cls is not None and not ctx:
            if self.kernel_prefixed >= _PREFIXED_LOG and cls.spec.kind not in _UNSTAMPED_KINDS:
                # In a log whose kernel lines carry timestamps, an unstamped
                # line is user-space output (a program printing "WARNING: ...").
                cls = None
        if cls is not None and needs_evidence(cls, ctx, text):
            if any(rep.ctx == ctx for rep in self.open):
                cls = None  # free text inside a report: part of its body
            else:
                provisional = True
        if cls is not None:
            cur = self._current(ctx)
            if cur is not None and cur.continues(text):
                cur.ended = False
                self._feed(cur, ln)
            else:
                new = _Open(cls, ln, self.step, self._preamble(ctx), provisional)
                for rep in list(self.open):
                    if rep.ctx != ctx:
                        continue
                    if rep.successor is None:
                        rep.successor = new
                    if rep.ended or (ctx in ("", "console") and not rep.cut_short()):
                        self._close(rep)
                    elif not rep.tail:
                        # Same task/CPU (or, without caller ids, a report cut
                        # short by a fault while printing it): syzkaller reads
                        # on past a second report for the first one's title;
                        # so do we, but its body ends here.
                        if ctx in ("", "console"):
                            rep.last_body = rep.lines[-1].no  # the cut line is its last
                        rep.tail = True
                        self._feed(rep, ln)
                    else:
                        self._close(rep)
                self.open.append(new)
        else:
            for rep in list(self.open):
                if not rep.accepts(ln):
                    continue
                if rep.ended and text.strip() and not _BODY.search(text):
                    # After "---[ end trace" the kernel may repeat the
                    # registers and panic; anything else ends the report.
                    self._close(rep)
                    continue
                if ln.ctx in ("", "console") and any(p in text for p in F.INFO_WITH_STACK):
                    self._close(rep)
                    continue
                self._feed(rep, ln)
                if F.TERMINATOR.search(text):
                    rep.ended = True
                    if not rep.tail:
                        rep.last_body = no
        self._remember(ln)

    def _current(self, ctx: str) -> _Open | None:
        for rep in reversed(self.open):
            if rep.ctx == ctx and not rep.tail:
                return rep
        return None

    def _feed(self, rep: _Open, ln: Line) -> None:
        rep.add(ln)
        if rep.gap >= rep.gap_limit or len(rep.lines) >= _MAX_REPORT_LINES:
            self._close(rep)

    def _remember(self, ln: Line) -> None:
        self.lookback = None
        self.recent.append(ln)
        if len(self.recent) > 4:
            del self.recent[0]

    def _preamble(self, ctx: str) -> list[Line]:
        """Lines just before a header that belong to its report."""
        if self.lookback is not None:
            buf, pos, back, last_no = self.lookback
            self.lookback = None
            keep = []
            for _ in range(3):
                if back <= pos:
                    break
                b0 = max(buf.rfind(b"\n", pos, back - 1) + 1, pos)
                keep.insert(0, buf[b0:back - 1])
                back = b0
            self.recent = []  # lines were skipped: older ones are not adjacent
            for k, raw in enumerate(keep):
                c, t = split_prefix(raw.decode("utf-8", "replace").rstrip("\r"))
                self.recent.append(Line(last_no - len(keep) + 1 + k, c, t, False))
        pre: list[Line] = []
        for ln in reversed(self.recent):
            if ln.ctx != ctx or not F.PREAMBLE.search(ln.text):
                break
            pre.insert(0, ln)
            if len(pre) == 3:
                break
        return pre

    def skipped(self, no: int) -> None:
        """Lines before *no* were skipped by the prefilter."""
        if self.recent and self.recent[-1].no < no - 1:
            self.recent.clear()

    def _expire(self, no: int) -> None:
        for rep in list(self.open):
            if no - rep.last_seen > _IDLE:
                self._close(rep)

    def _close_all(self) -> None:
        for rep in list(self.open):
            self._close(rep)

    def _close(self, rep: _Open, at_eof: bool = False) -> None:
        if rep in self.open:
            self.open.remove(rep)
            if rep.provisional:
                return  # free text without a kernel shape: not a report
            rep.report = assemble(rep.cls, rep.lines, rep.preamble, rep.step, rep.last_body, rep.min_lines,
                                  cut=at_eof and sum(1 for ln in rep.lines if ln.text.strip()) == 1)
            self.reports.append(rep.report)
            rep.lines, rep.preamble = rep.lines[:1], []  # keep memory flat
            if rep.successor is not None:
                self.pending.append(rep)

    def _inherit(self) -> None:
        """A report without a "Modules linked in:" line (lockdep, KASAN,
        sleeping-in-atomic reports print none) takes the module list and the
        last unloaded module from the report the kernel printed next in its
        context while it was open (the oops it led to, or that cut it short):
        module state is the kernel's, and nothing was unloaded in between.
        Latest first, so that a chain of such reports passes the list back."""
        for rep in sorted(self.pending, key=lambda o: o.lines[0].no, reverse=True):
            r, src = rep.report, rep.successor.report
            if src is not None and not r.modules_linked and r.last_unloaded is None:
                r.modules_linked = list(src.modules_linked)
                r.modules_unloading = list(src.modules_unloading)
                r.last_unloaded = src.last_unloaded
        self.pending.clear()

    def finish(self) -> list[Report]:
        for rep in list(self.open):
            self._close(rep, at_eof=True)
        self._inherit()
        self.reports.sort(key=lambda r: r.start_line)
        return self.reports

    # -- chunks ---------------------------------------------------------
    def chunk(self, buf: bytes) -> None:
        """Feed complete lines (buf ends with a newline, except at EOF)."""
        if b"\x00" in buf:  # NUL runs (serial consoles around resets) are noise
            buf = buf.replace(b"\x00", b"")
        pos = 0
        n = len(buf)
        if self.first_text is None:
            for raw in buf[:65536].split(b"\n"):
                text = split_prefix(raw.decode("utf-8", "replace").rstrip("\r"))[1]
                if text.strip():
                    self.first_text = text
                    break
        if self.kernel_prefixed < _PREFIXED_LOG:
            self.kernel_prefixed += len(STAMPED.findall(buf, 0, 65536))
        next_hit: dict[bytes, int] = {}
        rx_hit = -1
        while pos < n:
            if self.open:
                end = buf.find(b"\n", pos)
                if end < 0:
                    end = n
                self.lineno += 1
                self.line(buf[pos:end].decode("utf-8", "replace"), self.lineno)
                pos = end + 1
                continue
            # Fast path: jump to the next line the prefilter flags.
            if rx_hit < pos:
                m = PREFILTER_RX.search(buf, pos)
                rx_hit = m.start() if m else n
            hit = rx_hit
            for needle in PREFILTER_NEEDLES:
                h = next_hit.get(needle, -1)
                if h < pos:
                    h = buf.find(needle, pos)
                    if h < 0:
                        h = n
                    next_hit[needle] = h
                if h < hit:
                    hit = h
            if hit >= n:
                self.lineno += buf.count(b"\n", pos, n)
                if n and buf[n - 1:n] != b"\n":
                    self.lineno += 1
                self.skipped(self.lineno + 1)
                return
            start = buf.rfind(b"\n", pos, hit) + 1
            if start < pos:
                start = pos
            skipped = buf.count(b"\n", pos, start)
            if not self.stamped_seen and start > pos and STAMPED.search(buf, pos, start):
                self.stamped_seen = True
            if skipped:
                self.lineno += skipped
                self.skipped(self.lineno + 1)
                # The lines just before the hit may be a report's preamble;
                # decoded only if the hit turns out to be a report header.
                self.lookback = (buf, pos, start, self.lineno)
            end = buf.find(b"\n", start)
            if end < 0:
                end = n
            self.lineno += 1
            self.line(buf[start:end].decode("utf-8", "replace"), self.lineno)
            pos = end + 1


# --------------------------------------------------------------------------
# Public entry points (files: harness.detect.files)


def chunks(f, size: int = CHUNK):
    """Yield chunks of a binary stream that end on a line boundary; an
    over-long line is cut."""
    carry = b""
    while True:
        block = f.read(size)
        if not block:
            if carry:
                yield carry
            return
        buf = carry + block if carry else block
        cut = buf.rfind(b"\n")
        if cut < 0:
            if len(buf) >= size:  # one endless line: cut it
                yield buf + b"\n"
                carry = b""
            else:
                carry = buf
            continue
        yield buf[: cut + 1]
        carry = buf[cut + 1:]


def scan_lines(lines: Iterable[str]) -> list[Report]:
    """Scan an iterable of lines (with or without line endings); streaming."""
    sc = Scanner()
    for raw in lines:
        sc.lineno += 1
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        sc.line(raw, sc.lineno)
    return sc.finish()


def scan_text(text: str) -> list[Report]:
    """Scan a whole log held in a string."""
    return scan_bytes(text.encode("utf-8", "surrogateescape"))


def scan_bytes(data: bytes) -> list[Report]:
    """Scan a whole log held in bytes."""
    sc = Scanner()
    for chunk in chunks(io.BytesIO(data)):
        sc.chunk(chunk)
    return sc.finish()


def scan_range(lines: list[str], offset: int) -> list[Report]:
    """Reports in lines[...] that start at console line `offset` (0-based); their
    line numbers are made absolute."""
    reports = scan_lines(lines)
    for r in reports:
        r.start_line += offset
        r.end_line += offset
    return reports
