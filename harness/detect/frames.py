"""The guilty frame of a report: walks a :class:`formats.Stack` spec over the
report's lines, skipping generic helpers (``formats.SKIP_FRAMES``)."""

from __future__ import annotations

import re

from harness.detect import formats as F

__all__ = ["extract_frames", "is_stack_start", "strip_frame"]

_SKIP_CACHE: dict[tuple, re.Pattern] = {}


def _skip_re(stack: F.Stack) -> re.Pattern:
    key = stack.skip
    pat = _SKIP_CACHE.get(key)
    if pat is None:
        pat = re.compile("|".join(F.SKIP_FRAMES + tuple(stack.skip)))
        _SKIP_CACHE[key] = pat
    return pat


def strip_frame(name: str) -> str:
    """Drop a syscall-wrapper prefix (``__x64_sys_``, ``__se_`` ...)."""
    best = name
    for prefix in F.STRIP_FRAME_PREFIXES:
        if name.startswith(prefix) and len(name) - len(prefix) < len(best):
            best = name[len(prefix):]
    return best


def _pick_frame(raw: list[str], extractor: str | None) -> str:
    if not raw:
        return ""
    frames = [strip_frame(f) for f in raw]
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


def is_stack_start(line: str) -> bool:
    return any(r.search(line) for r in F.STACK_START)


def _add_frames(raw: list[str], m: re.Match, skip: re.Pattern, names: dict[str, str]) -> None:
    for g in m.groups():
        if g is None:
            continue
        g = names.get(g, g)
        if not skip.search(g):
            raw.append(g)


def extract_frames(text: str, parts: tuple, stack: F.Stack,
                   names: dict[str, str]) -> tuple[list[str], bool]:
    """Walk *parts* over the lines of *text*; return the guilty frames and
    whether every part found one.  *names* maps mangled names to readable ones."""
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
                if is_stack_start(ln):
                    break
                if pi != n - 1:
                    m = parts[pi + 1].search(ln)
                    if m:
                        _add_frames(raw, m, skip, names)
                        pi += 1
                        break
                for fr in F.FRAME_RES:
                    m = fr.search(ln)
                    if m:
                        _add_frames(raw, m, skip, names)
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
                    _add_frames(raw, m, skip, names)
                    break
        pi += 1
    return results, ok
