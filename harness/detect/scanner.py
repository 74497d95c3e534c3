"""Crash detector: find every kernel report (oops, warning, splat) in a log.

Reads console logs or dmesg text and returns one :class:`Report` per kernel
report found, titled the way kernel developers title crashes (syzbot's
convention), with the guilty frame, the module it happened in, the module
last unloaded, the harness step that was running and a de-duplication
signature.  What the reports look like is data in :mod:`harness.detect.formats`;
this module is the machinery that applies it.

Input is streamed: a file is read in chunks, a cheap prefilter (one regex and
a few substring searches over the whole chunk) skips ordinary lines, and only
lines near a report are decoded and looked at, so memory stays bounded
whatever the size of the log.

Line prefixes understood (and stripped): the harness's host timestamp
``[host +12.345] ``, syslog levels ``<6>``, kernel timestamps
``[   12.345678]`` optionally followed by a caller id ``[ T123]``/``[  C1]``.
Lines of one caller id belong to one report (CONFIG_PRINTK_CALLER keeps
interleaved reports apart).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from typing import IO, Iterable, Iterator

from harness.detect import formats as F

__all__ = ["Report", "ScanError", "scan_text", "scan_lines", "scan_bytes", "scan_file", "scan_range"]


class ScanError(Exception):
    """A log could not be scanned (unreadable, binary, ...)."""


@dataclass
class Report:
    """One kernel report found in a log."""

    kind: str
    title: str
    frame: str | None
    corrupted: bool
    module: str | None
    last_unloaded: str | None
    step: str | None
    signature: str
    start_line: int
    end_line: int
    text: str
    modules_linked: list[str] = field(default_factory=list)
    tainted: str | None = None
    alt_titles: list[str] = field(default_factory=list)
    corrupted_reason: str | None = None
    modules_unloading: list[str] = field(default_factory=list)
    location: str | None = None  # file:line of the guilty frame, once symbolised

    def to_json(self) -> dict:
        d = asdict(self)
        # Key order: the contract's keys first.
        keys = ["kind", "title", "frame", "corrupted", "module", "last_unloaded", "step",
                "signature", "start_line", "end_line"]
        out = {k: d.pop(k) for k in keys}
        out.update(d)
        return out


# --------------------------------------------------------------------------
# Line prefixes

_HOST_PREFIX = re.compile(r"^\[host [^\]]*\] ?")
_CONSOLE_PREFIX = re.compile(
    r"^(?:\*\* [0-9]+ printk messages dropped \*\* )?(?:.* login: )?(?:<[0-9]+>)?"
    r"\[ *[0-9]+\.[0-9]+\](?: ?(\[ *[CT][0-9]+\]))?(?: |$)"
)
_SYSLOG_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} \S+ kernel: ")
_QUESTIONABLE = re.compile(r"^(?:\[<[0-9a-f]+>\])? ?\? ")
_STEP = re.compile(r"HARNESS-STEP(-END)?: *(\S.*?)\s*$")

_MAX_LINE = 1024          # characters kept of one line
_MAX_REPORT_LINES = 1500  # lines collected for one report
_GAP = 30                 # unrelated lines in a row that end a report
_IDLE = 400               # input lines without news that end a report
_CHUNK = 1 << 20
_UNSTAMPED_KINDS = ("REBOOT", "TOOL")  # printed outside printk: never stamped
_PREFIXED_LOG = 3          # timestamped lines after which unstamped ones are user space


def _split_prefix(line: str) -> tuple[str, str]:
    """Return (context, text): context is "" (no kernel timestamp),
    "console" (timestamp only) or the caller id ("T123"/"C1")."""
    if line.startswith("[host"):
        line = _HOST_PREFIX.sub("", line, count=1)
    m = _CONSOLE_PREFIX.match(line)
    if m:
        ctx = m.group(1)
        ctx = ctx[1:-1].strip() if ctx else "console"
        return ctx, line[m.end():]
    m = _SYSLOG_PREFIX.match(line)
    if m:
        return "console", line[m.end():]
    return "", line


# --------------------------------------------------------------------------
# Prefilter: finds candidate lines in a raw chunk without looking at each line

_PREFILTER_RX = re.compile(
    rb"[BWIUKPVSHOA](?:UG|ARN|NFO:|BSAN:|nable to handle|ernel panic|ANIC|FS: (?:Busy|Close)|YZF|ARNESS-STEP"
    rb"|ops: |nternal error|nhandled fault|lignment trap|ooting the kernel)"
)
_STAMPED = re.compile(rb"(?m)^(?:\[host[^\]\n]*\] ?)?(?:<[0-9]+>)?\[ *[0-9]+\.[0-9]+\]")
_PREFILTER_NEEDLES = (b"general protection", b"stack segment", b"panic", b"divide error", b"divide_error",
                      b"invalid opcode",
                      b"unregister_netdevice", b"unreferenced object", b"fatal error")


def prefilter_hits(text: str) -> bool:
    """True when the prefilter would look at a line holding *text* (tests)."""
    b = text.encode()
    return bool(_PREFILTER_RX.search(b)) or any(n in b for n in _PREFILTER_NEEDLES)


# --------------------------------------------------------------------------
# Report-body heuristics (where a report ends)

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


# --------------------------------------------------------------------------
# Module / taint attribution

_MODULES_LINKED = re.compile(r"Modules linked in:(.*)")
_LAST_UNLOADED = re.compile(r"\[last unloaded: ([A-Za-z0-9_\-]+)(?:\([^)]*\))?\]")
_UNLOADED_TAINTED = re.compile(r"Unloaded tainted modules: (.*)")
_TAINT_SHORT = re.compile(r"\bTainted: ((?:[A-Z ](?! *\d+\.\d))+[A-Z])")
_TAINT_VERBOSE = re.compile(r"\[([A-Z])\]=[A-Z_]+")
_FRAME_MODULE = re.compile(r"([A-Za-z0-9_.]+)\+0x[0-9a-f]+/0x[0-9a-f]+ \[([A-Za-z0-9_\-]+)[\] ]")
_MOD_TOKEN = re.compile(r"([A-Za-z0-9_\-]+)(?:\(([^)]*)\))?")


def _parse_modules(lines: list[str]) -> dict:
    linked: list[str] = []
    unloading: list[str] = []
    last_unloaded = None
    unloaded_tainted: list[str] = []
    tainted = None
    verbose: list[str] = []
    frame_mods: list[tuple[str, str]] = []
    for text in lines:
        if "Modules linked in:" in text and not linked:
            body = _MODULES_LINKED.search(text).group(1)
            m = _LAST_UNLOADED.search(body)
            if m:
                last_unloaded = m.group(1)
                body = body[: m.start()]
            for tok in _MOD_TOKEN.finditer(body):
                linked.append(tok.group(1))
                if tok.group(2) and "-" in tok.group(2):
                    unloading.append(tok.group(1))
        elif "[last unloaded:" in text and last_unloaded is None:
            last_unloaded = _LAST_UNLOADED.search(text).group(1) if _LAST_UNLOADED.search(text) else None
        if "Unloaded tainted modules:" in text:
            for tok in _MOD_TOKEN.finditer(_UNLOADED_TAINTED.search(text).group(1)):
                if not tok.group(1).isdigit():
                    unloaded_tainted.append(tok.group(1))
        if "Tainted:" in text or "Not tainted" in text:
            vs = _TAINT_VERBOSE.findall(text)
            if vs:
                verbose.extend(vs)
            elif tainted is None:
                if "Not tainted" in text:
                    tainted = ""
                else:
                    m = _TAINT_SHORT.search(text)
                    if m:
                        tainted = " ".join(m.group(1).split())
        if "/0x" in text and "[" in text:
            for m in _FRAME_MODULE.finditer(text):
                frame_mods.append((m.group(1), m.group(2)))
    if tainted is None and verbose:
        tainted = " ".join(dict.fromkeys(verbose))
    if last_unloaded is None and unloaded_tainted:
        last_unloaded = unloaded_tainted[-1]
    return {
        "linked": linked, "unloading": unloading, "last_unloaded": last_unloaded,
        "tainted": tainted, "frame_mods": frame_mods,
    }


# --------------------------------------------------------------------------
# Title extraction (applies the format table to one report's text)

_TABLE = F.compile_table()
_CLASS_BY_HEADER = {c.spec.header: c for c in _TABLE}
_SKIP_CACHE: dict[tuple, re.Pattern] = {}
_REPORT_FRAME = re.compile(r".* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)")

# Title normalisation: addresses, line numbers, offsets, numbers, CPU ids.
_TITLE_REPLACEMENTS = (
    (re.compile(r"syz-executor\.?[0-9]+((/|:)[0-9]+)?"), "syz-executor"),
    (re.compile(r"syzkaller[0-9]+((/|:)[0-9]+)?"), "syzkaller"),
    (re.compile(r"([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}"), r"\1ADDR"),
    (re.compile(r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})"), "IP"),
    (re.compile(r"(\.\w+)(:[0-9]+)+"), r"\1:LINE"),
    (re.compile(r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+"), r"\1"),
    (re.compile(r"CPU#[0-9]+"), "CPU"),
    (re.compile(r"(\W)(\d+)(\W|$)"), r"\1NUM\3"),
    (re.compile(r"(\d+){7,}"), "NUM"),
)


def normalize_title(title: str) -> str:
    """Make a title stable across runs (syzbot's normalisation)."""
    for pattern, repl in _TITLE_REPLACEMENTS:
        while True:
            new = pattern.sub(repl, title)
            if new == title:
                break
            title = new
    out = []
    prev = " "
    for ch in title[:120]:
        if ch == "\t":
            ch = " "
        elif ord(ch) < 0x20 or ord(ch) >= 0x7F:
            continue
        if ch == " " and prev == " ":
            continue
        out.append(ch)
        prev = ch
    return "".join(out).strip()


def _skip_re(stack: F.Stack) -> re.Pattern:
    key = stack.skip
    pat = _SKIP_CACHE.get(key)
    if pat is None:
        pat = re.compile("|".join(F.SKIP_FRAMES + tuple(stack.skip)))
        _SKIP_CACHE[key] = pat
    return pat


def _strip_frame(name: str) -> str:
    best = name
    for prefix in F.STRIP_FRAME_PREFIXES:
        if name.startswith(prefix) and len(name) - len(prefix) < len(best):
            best = name[len(prefix):]
    return best


def _pick_frame(raw: list[str], extractor: str | None) -> str:
    if not raw:
        return ""
    frames = [_strip_frame(f) for f in raw]
    if extractor is None:
        return frames[0]
    if extractor == "stall":
        prev = frames[0]
        for f in frames:
            if any(a.search(f) for a in F.STALL_ANCHORS):
                return "smp_call_function" if "smp_call_function" in f else prev
            prev = f
        return ""
    if extractor == "hang":
        for f in frames:
            for anchor, repl in F.HANG_ANCHORS:
                if anchor in f:
                    return repl or f
        for f in frames:
            if not any(s in f for s in F.HANG_SKIP):
                return f
        return ""
    raise ValueError(extractor)


def _is_stack_start(line: str) -> bool:
    return any(r.search(line) for r in F.STACK_START)


_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _RustV0:
    """Just enough of a Rust v0 symbol demangler for function paths
    (crate::module::fn and <Type as Trait>::method); raises on the rest."""

    def __init__(self, sym: str):
        self.s = sym[2:]
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self) -> str:
        c = self.peek()
        if not c:
            raise ValueError("truncated")
        self.i += 1
        return c

    def b62(self) -> int:
        if self.peek() == "_":
            self.i += 1
            return 0
        n = 0
        while self.peek() != "_":
            n = n * 62 + _B62.index(self.take())
        self.i += 1
        return n + 1

    def disamb(self) -> None:
        if self.peek() == "s":
            self.i += 1
            self.b62()

    def ident(self) -> str:
        if self.peek() == "u":
            raise ValueError("punycode")
        j = self.i
        while self.peek().isdigit():
            self.i += 1
        n = int(self.s[j:self.i])
        if self.peek() == "_":
            self.i += 1
        name = self.s[self.i:self.i + n]
        self.i += n
        return name

    def backref(self, fn):
        pos = self.b62()
        save, self.i = self.i, pos
        try:
            return fn()
        finally:
            self.i = save

    def path(self) -> str:
        c = self.take()
        if c == "C":
            self.disamb()
            return self.ident()
        if c == "N":
            self.take()  # namespace
            parent = self.path()
            self.disamb()
            name = self.ident()
            return f"{parent}::{name}" if name else parent
        if c == "M":
            self.disamb()
            self.path()
            return f"<{self.type()}>"
        if c == "X":
            self.disamb()
            self.path()
            ty = self.type()
            return f"<{ty} as {self.path()}>"
        if c == "Y":
            ty = self.type()
            return f"<{ty} as {self.path()}>"
        if c == "B":
            return self.backref(self.path)
        raise ValueError(c)

    def type(self) -> str:
        c = self.peek()
        basic = {"a": "i8", "b": "bool", "c": "char", "d": "f64", "e": "str", "f": "f32", "h": "u8",
                 "i": "isize", "j": "usize", "l": "i32", "m": "u32", "n": "i128", "o": "u128",
                 "s": "i16", "t": "u16", "u": "()", "x": "i64", "y": "u64", "z": "!", "p": "_"}
        if c in basic:
            self.i += 1
            return basic[c]
        if c == "B":
            self.i += 1
            return self.backref(self.type)
        return self.path()


_ITANIUM = re.compile(r"_Z(N?)((?:\d+[A-Za-z_][A-Za-z0-9_]*?)+)")


def demangle(name: str) -> str:
    """Demangle C++ (Itanium) and Rust (v0) function names; else unchanged."""
    if name.startswith("_R"):
        try:
            return _RustV0(name).path()
        except (ValueError, IndexError):
            return name
    if name.startswith("_Z"):
        i = 2
        nested = name[i:i + 1] == "N"
        if nested:
            i += 1
        parts = []
        while i < len(name) and name[i].isdigit():
            j = i
            while i < len(name) and name[i].isdigit():
                i += 1
            n = int(name[j:i])
            parts.append(name[i:i + n])
            i += n
            if not nested:
                break
        return "::".join(parts) if parts else name
    return name


def _add_frames(raw: list[str], m: re.Match, skip: re.Pattern) -> None:
    for g in m.groups():
        if g is None:
            continue
        if g[:2] in ("_R", "_Z"):
            g = demangle(g)
        if not skip.search(g):
            raw.append(g)


def _extract_frames(text: str, parts: tuple, stack: F.Stack) -> tuple[list[str], bool]:
    """Walk *parts* over the lines of *text*; return the guilty frames."""
    skip = _skip_re(stack)
    lines = text.split("\n")
    i = 0
    raw: list[str] = []
    results: list[str] = []
    ok = True
    traces = 0
    pi = 0
    n = len(parts)
    while True:
        if pi == n or (parts[pi] is F.PARSE_STACK and traces > 0):
            key = _pick_frame(raw, stack.extractor)
            if not key:
                key, ok = "corrupted", False
            results.append(key)
            raw = []
        if pi == n:
            break
        part = parts[pi]
        if part is F.PARSE_STACK:
            traces += 1
            while i < len(lines):
                ln = lines[i]
                i += 1
                if any(c.search(ln) for c in F.CORRUPTED_LINES):
                    ok = False
                    break
                if _is_stack_start(ln):
                    break
                if pi != n - 1:
                    m = parts[pi + 1].search(ln)
                    if m:
                        _add_frames(raw, m, skip)
                        pi += 1
                        break
                for fr in F.FRAME_RES:
                    m = fr.search(ln)
                    if m:
                        _add_frames(raw, m, skip)
                        break
        else:
            while i < len(lines):
                ln = lines[i]
                i += 1
                if any(c.search(ln) for c in F.CORRUPTED_LINES):
                    ok = False
                    break
                m = part.search(ln)
                if m:
                    _add_frames(raw, m, skip)
                    break
        pi += 1
    return results, ok


@dataclass
class _Described:
    title: str
    corrupted: str
    alts: list[str]
    fmt: F.Format | None


def _describe(text: str, cls: F.CompiledClass) -> _Described:
    best_pos = len(text)
    desc = ""
    corrupted = ""
    alts: list[str] = []
    chosen: F.Format | None = None
    matched_title = False
    for f, title_re, report_re in cls.formats:
        m = title_re.search(text)
        if m is None or m.start() > best_pos:
            continue
        if m.start() == best_pos and desc:
            continue
        if m.start() < best_pos:
            desc, chosen, alts, best_pos = "", None, [], m.start()
        matched_title = True
        if report_re is not None:
            m = report_re.search(text)
            if m is None:
                continue
        args = [g if g is not None else "" for g in m.groups()]
        corrupted = ""
        if f.stack is not None:
            frames, ok = _extract_frames(text[m.start():], f.stack.parts, f.stack)
            if not ok and f.stack.parts2:
                frames, ok = _extract_frames(text[m.start():], f.stack.parts2, f.stack)
            if not ok:
                corrupted = "extracted no frames"
            args.extend(frames)
        desc = _format(f.fmt, args)
        alts = [_format(a, args) for a in f.alt]
        chosen = f
    if not desc:
        if matched_title:
            corrupted = "matched title but not report regexp"
        pos = text.find(cls.spec.header)
        if pos < 0:
            pos = 0
        end = text.find("\n", pos)
        desc = text[pos:] if end < 0 else text[pos:end]
    if not corrupted and chosen is not None and chosen.corrupted:
        corrupted = "report format is marked as corrupted"
    return _Described(desc, corrupted, alts, chosen)


def _format(template: str, args: list[str]) -> str:
    try:
        return template.format("", *args)
    except IndexError:
        return template.format("", *(args + ["corrupted"] * 8))


def _corrupted_reason(title: str, text: str, fmt: F.Format | None) -> str:
    if any(r.search(title) for r in F.CORRUPTED_TITLES):
        return "title matches corrupted regexp"
    if fmt is None or fmt.no_stack_trace:
        return ""
    has_stack = False
    for key in F.STACK_START:
        m = key.search(text)
        if m is None:
            continue
        frames = text[m.start():].split("\n")
        if len(frames) < 4:
            return "call trace is missed"
        bad = True
        for ln in frames[1:16]:
            if _is_stack_start(ln):
                break
            if "(stack is not available)" in ln or any(r.search(ln) for r in F.FRAME_RES):
                has_stack, bad = True, False
                break
        if bad and key is not F.STACK_START[-1]:
            return "no frames in a stack trace"
    if not has_stack:
        return "no stack trace in report"
    return ""


# --------------------------------------------------------------------------
# Header matching


def _match_header(text: str) -> F.CompiledClass | None:
    for cls in _TABLE:
        if cls.spec.header in text:
            if any(r.search(text) for r in cls.ignore):
                return None
            return cls
    return None


def _is_continuation(text: str) -> bool:
    return any(r.search(text) for r in F.CONTINUATION_HEADERS)


# --------------------------------------------------------------------------
# The streaming scanner


@dataclass
class _Line:
    no: int
    ctx: str
    text: str
    questionable: bool


class _Open:
    """A report being collected."""

    def __init__(self, cls: F.CompiledClass, first: _Line, step: str | None, preamble: list[_Line]):
        self.cls = cls
        self.ctx = first.ctx
        self.step = step
        self.preamble = preamble
        self.lines: list[_Line] = [first]
        self.last_body = first.no
        self.last_seen = first.no
        self.gap = 0
        self.gap_limit = _GAP if first.ctx in ("", "console") else 3 * _GAP
        self.ended = False      # saw "---[ end trace"
        self.tail = False       # another report started in this context
        self.cpu_traceback = False
        self.min_lines = 16 if "BUG: KMSAN:" in first.text else 22
        self.leak_objects = 1 if first.text.startswith("unreferenced object") else 0

    def accepts(self, line: _Line) -> bool:
        if line.ctx == self.ctx:
            return True
        return self.cpu_traceback and line.ctx.startswith("C")

    def continues(self, text: str) -> bool:
        """Does a header line belong to this report rather than start one?"""
        if _is_continuation(text):
            return True
        if text.startswith("unreferenced object") and self.leak_objects == 0 \
                and "memory leak" in self.lines[0].text:
            self.leak_objects = 1
            return True
        return False

    def add(self, line: _Line) -> None:
        self.lines.append(line)
        self.last_seen = line.no
        text = line.text
        if "Sending NMI from CPU" in text:
            self.cpu_traceback = True
        if not text.strip():
            return
        if _BODY.search(text) or line.questionable:
            if not self.tail:
                self.last_body = line.no
            self.gap = 0
        else:
            self.gap += 1


class _Scanner:
    def __init__(self) -> None:
        self.lineno = 0
        self.step: str | None = None
        self.open: list[_Open] = []
        self.reports: list[Report] = []
        self.recent: list[_Line] = []  # a few lines before the current one
        self.kernel_prefixed = 0  # timestamped lines seen so far
        self.lookback = None  # (buf, lo, hi, lineno): skipped lines before the current one

    # -- per line -------------------------------------------------------
    def line(self, raw: str, no: int) -> None:
        if len(raw) > _MAX_LINE:
            raw = raw[:_MAX_LINE]
        ctx, text = _split_prefix(raw.rstrip("\r\n"))
        text = text.rstrip("\r")
        questionable = bool(_QUESTIONABLE.match(text)) and "<EOI>" not in text
        ln = _Line(no, ctx, text, questionable)
        if self.open:
            self._expire(no)
        if "HARNESS-STEP" in text:
            m = _STEP.search(text)
            if m:
                if not m.group(1):
                    self.step = m.group(2)
                self._close_all()
                self._remember(ln)
                return
        if ctx:
            self.kernel_prefixed += 1
        cls = _match_header(text) if text else None
        if cls is not None and not ctx and self.kernel_prefixed >= _PREFIXED_LOG \
                and cls.spec.kind not in _UNSTAMPED_KINDS:
            # In a log whose kernel lines carry timestamps, an unstamped
            # line is user-space output (a program printing "WARNING: ...").
            cls = None
        if cls is not None:
            cur = self._current(ctx)
            if cur is not None and cur.continues(text):
                cur.ended = False
                self._feed(cur, ln)
            else:
                for rep in list(self.open):
                    if rep.ctx != ctx:
                        continue
                    if ctx in ("", "console") or rep.ended:
                        self._close(rep)
                    else:
                        # Same task/CPU: syzkaller reads on past a second
                        # report for the first one's title; so do we, but
                        # its body ends here.
                        rep.tail = True
                        self._feed(rep, ln)
                self.open.append(_Open(cls, ln, self.step, self._preamble(ctx)))
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

    def _feed(self, rep: _Open, ln: _Line) -> None:
        rep.add(ln)
        if rep.gap >= rep.gap_limit or len(rep.lines) >= _MAX_REPORT_LINES:
            self._close(rep)

    def _remember(self, ln: _Line) -> None:
        self.lookback = None
        self.recent.append(ln)
        if len(self.recent) > 4:
            del self.recent[0]

    def _preamble(self, ctx: str) -> list[_Line]:
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
                c, t = _split_prefix(raw.decode("utf-8", "replace").rstrip("\r"))
                self.recent.append(_Line(last_no - len(keep) + 1 + k, c, t, False))
        pre: list[_Line] = []
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

    def _close(self, rep: _Open) -> None:
        if rep in self.open:
            self.open.remove(rep)
            self.reports.append(_finish(rep))

    def finish(self) -> list[Report]:
        self._close_all()
        self.reports.sort(key=lambda r: r.start_line)
        return self.reports

    # -- chunks ---------------------------------------------------------
    def chunk(self, buf: bytes) -> None:
        """Feed complete lines (buf ends with a newline, except at EOF)."""
        pos = 0
        n = len(buf)
        if self.kernel_prefixed < _PREFIXED_LOG:
            self.kernel_prefixed += len(_STAMPED.findall(buf, 0, 65536))
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
                m = _PREFILTER_RX.search(buf, pos)
                rx_hit = m.start() if m else n
            hit = rx_hit
            for needle in _PREFILTER_NEEDLES:
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


def _finish(rep: _Open) -> Report:
    lines = rep.lines
    # Text the title is extracted from: this context's lines, without
    # questionable frames and without a trailing panic/lockdep splat.
    title_lines: list[str] = []
    count = 0
    skipping = False
    for i, ln in enumerate(lines):
        count += 1
        t = ln.text
        if i == 0:
            title_lines.append(t)
            continue
        if ln.questionable:
            continue
        if skipping:
            continue
        if "Disabling lock debugging due to kernel taint" in t:
            continue
        if count > rep.min_lines and ("Kernel panic - not syncing" in t
                                      or "WARNING: possible circular locking dependency detected" in t):
            skipping = True
            continue
        title_lines.append(t)
    text = "\n".join(title_lines) + "\n"
    d = _describe(text, rep.cls)
    reason = d.corrupted or _corrupted_reason(d.title, text, d.fmt)
    title = normalize_title(d.title)
    alts = []
    for a in d.alts:
        a = normalize_title(a)
        if a != title and a not in alts:
            alts.append(a)
    m = _REPORT_FRAME.match(title)
    frame = m.group(1) if m else None
    if frame == "corrupted":
        frame = None
    if frame is None and not reason and d.fmt is not None and d.fmt.stack is not None:
        reason = "no guilty frame"
    kind = (d.fmt.kind if d.fmt is not None and d.fmt.kind else None) or rep.cls.spec.kind
    for pattern, k in F.KIND_BY_TITLE:
        if pattern.search(title):
            kind = k
    body = [ln for ln in lines if ln.no <= rep.last_body]
    all_text = [ln.text for ln in rep.preamble] + [ln.text for ln in body]
    mods = _parse_modules(all_text)
    module = None
    if frame:
        for fn, mod in mods["frame_mods"]:
            if fn == frame or _strip_frame(fn) == frame:
                module = mod
                break
    if module is None and mods["frame_mods"]:
        module = mods["frame_mods"][0][1]
    start = rep.preamble[0].no if rep.preamble else lines[0].no
    signature = hashlib.sha1(f"{title}|{frame or ''}".encode()).hexdigest()[:16]
    return Report(
        kind=kind,
        title=title,
        frame=frame,
        corrupted=bool(reason),
        module=module,
        last_unloaded=mods["last_unloaded"],
        step=rep.step,
        signature=signature,
        start_line=start,
        end_line=rep.last_body,
        text="\n".join(all_text),
        modules_linked=mods["linked"],
        tainted=mods["tainted"],
        alt_titles=alts,
        corrupted_reason=reason or None,
        modules_unloading=mods["unloading"],
    )


# --------------------------------------------------------------------------
# Public entry points


def scan_lines(lines: Iterable[str]) -> list[Report]:
    """Scan an iterable of lines (with or without line endings); streaming."""
    sc = _Scanner()
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
    sc = _Scanner()
    for chunk in _chunks(io.BytesIO(data)):
        sc.chunk(chunk)
    return sc.finish()


def _chunks(f: IO[bytes], size: int = _CHUNK) -> Iterator[bytes]:
    """Yield chunks that end on a line boundary; over-long lines are cut."""
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


_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x7fELF": "ELF",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
}
_OPENERS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}


def _looks_binary(head: bytes) -> bool:
    """A log may carry a stray NUL (serial noise); a binary file has many."""
    if b"\x00" not in head:
        return False
    nul = head.count(b"\x00")
    return nul * 100 >= len(head) or b"\x00\x00\x00\x00" in head[:4096]


def scan_file(path) -> list[Report]:
    """Scan a log file (plain, or compressed with gzip/bzip2/xz)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except IsADirectoryError:
        raise ScanError(f"{path}: is a directory") from None
    except OSError as e:
        raise ScanError(f"{path}: cannot read: {e.strerror or e}") from None
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    opener = _OPENERS.get(kind, open)
    if kind and kind not in _OPENERS:
        raise ScanError(f"{path}: binary file ({kind}), not a text log")
    sc = _Scanner()
    try:
        with opener(path, "rb") as f:
            first = True
            for chunk in _chunks(f):
                if first:
                    if _looks_binary(chunk[:65536]):
                        raise ScanError(f"{path}: binary file (NUL bytes), not a text log")
                    first = False
                sc.chunk(chunk)
    except ScanError:
        raise
    except (OSError, EOFError, lzma.LZMAError) as e:
        raise ScanError(f"{path}: cannot read: {e}") from None
    return sc.finish()


def scan_range(lines: list[str], offset: int) -> list[Report]:
    """Reports in lines[...] that start at console line `offset` (0-based); their
    line numbers are made absolute."""
    reports = scan_lines(lines)
    for r in reports:
        r.start_line += offset
        r.end_line += offset
    return reports
