"""A :class:`Report` from the lines the scanner collected for one report:
its title (the lines of its context, without questionable frames and
without a trailing panic or lockdep splat), kind, guilty frame, module
attribution and signature."""

from __future__ import annotations

import hashlib
import re

from harness.detect import formats as F
from harness.detect.frames import strip_frame
from harness.detect.modules import parse_modules
from harness.detect.prefix import Line
from harness.detect.report import Report
from harness.detect.titles import corrupted_reason, describe, normalize_title

__all__ = ["assemble"]

_REPORT_FRAME = re.compile(r".* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)")


def _title_text(lines: list[Line], min_lines: int) -> str:
    """The text a title is extracted from (syzkaller's rules)."""
    out: list[str] = []
    count = 0
    for i, ln in enumerate(lines):
        count += 1
        t = ln.text
        if i == 0:
            out.append(t)
            continue
        if ln.questionable or "Disabling lock debugging due to kernel taint" in t:
            continue
        if count > min_lines and ("Kernel panic - not syncing" in t
                                  or "WARNING: possible circular locking dependency detected" in t):
            break  # a panic (panic_on_warn) or lockdep splat caused by this report
        out.append(t)
    return "\n".join(out) + "\n"


def assemble(cls: F.CompiledClass, lines: list[Line], preamble: list[Line], step: str | None,
             last_body: int, min_lines: int, cut: bool = False) -> Report:
    """*cut*: the report is its header line alone, at the end of the log."""
    text = _title_text(lines, min_lines)
    d = describe(text, cls)
    reason = d.corrupted or corrupted_reason(d.title, text, d.fmt)
    if cut and d.fmt is None and cls.spec.free_text:
        # "INFO: t": the log ends in the middle of a header line whose words
        # are not a known title; it is a report cut short, not a title.
        d.title, reason = f"{cls.spec.header} corrupted", "report cut at the end of the log"
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
    kind = (d.fmt.kind if d.fmt is not None and d.fmt.kind else None) or cls.spec.kind
    for pattern, k in F.KIND_BY_TITLE:
        if pattern.search(title):
            kind = k
    body = [ln for ln in lines if ln.no <= last_body]
    all_text = [ln.text for ln in preamble] + [ln.text for ln in body]
    mods = parse_modules(all_text)
    module = None
    if frame:
        for fn, mod in mods.frame_mods:
            if fn == frame or strip_frame(fn) == frame:
                module = mod
                break
    if module is None and mods.frame_mods:
        module = mods.frame_mods[0][1]
    start = preamble[0].no if preamble else lines[0].no
    signature = hashlib.sha1(f"{title}|{frame or ''}".encode()).hexdigest()[:16]
    return Report(
        kind=kind,
        title=title,
        frame=frame,
        corrupted=bool(reason),
        module=module,
        last_unloaded=mods.last_unloaded,
        step=step,
        signature=signature,
        start_line=start,
        end_line=last_body,
        text="\n".join(all_text),
        modules_linked=mods.linked,
        tainted=mods.tainted,
        alt_titles=alts,
        corrupted_reason=reason or None,
        modules_unloading=mods.unloading,
    )
