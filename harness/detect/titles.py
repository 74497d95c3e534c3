"""A report's title: the format table applied to one report's text, and the
normalisation that makes titles stable across runs (syzbot's convention:
the title is the de-duplication signature other tools share)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.detect import formats as F
from harness.detect.demangle import MANGLED, demangle_all
from harness.detect.frames import extract_frames, is_stack_start

__all__ = ["Described", "describe", "normalize_title", "corrupted_reason"]

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


@dataclass
class Described:
    title: str            # not yet normalised
    corrupted: str        # why the report is corrupted, "" if it is not
    alts: list[str]
    fmt: F.Format | None  # the format that gave the title (None: the header line)


def _format(template: str, args: list[str]) -> str:
    try:
        return template.format("", *args)
    except IndexError:
        return template.format("", *(args + ["corrupted"] * 8))


def describe(text: str, cls: F.CompiledClass) -> Described:
    """Title a report of class *cls*: among the class's formats whose title
    regex matches, the earliest match wins (ties: table order)."""
    best_pos = len(text)
    desc = ""
    corrupted = ""
    alts: list[str] = []
    chosen: F.Format | None = None
    matched_title = False
    names: dict[str, str] | None = None
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
            if names is None:  # one c++filt call for the whole report
                names = demangle_all(MANGLED.findall(text)) if ("_R" in text or "_Z" in text) else {}
            frames, ok = extract_frames(text[m.start():], f.stack.parts, f.stack, names)
            if not ok and f.stack.parts2:
                frames, ok = extract_frames(text[m.start():], f.stack.parts2, f.stack, names)
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
    return Described(desc, corrupted, alts, chosen)


def corrupted_reason(title: str, text: str, fmt: F.Format | None) -> str:
    """Why a titled report is corrupted ("" when it is not)."""
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
            if is_stack_start(ln):
                break
            if "(stack is not available)" in ln or any(r.search(ln) for r in F.FRAME_RES):
                has_stack, bad = True, False
                break
        if bad and key is not F.STACK_START[-1]:
            return "no frames in a stack trace"
    if not has_stack:
        return "no stack trace in report"
    return ""
