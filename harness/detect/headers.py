"""Which line starts a report, and whether it has a kernel's shape.

A line holding a class's ``header`` (and none of its ``ignore`` regexes)
starts a report of that class.  For classes whose header is free text that
firmware, boot loaders, test harnesses and programs print too (``WARNING:``,
``BUG:``, ``INFO:`` ...; ``ReportClass.free_text``), the line must also have
the shape of a kernel report: one of the class's title formats matches the
line itself (``WARNING: CPU: 0 PID: 1 at file.c:12 func+0x1/0x2``,
``WARNING: suspicious RCU usage``, ``BUG: KASAN: ...``, or a bare ``INFO:``
cut short).  An unshaped line
printed by the kernel (it carries a kernel timestamp) is still a report, as
syzkaller counts it; an unshaped line without one is a report only if kernel
evidence follows it in its context (:data:`EVIDENCE`: a call trace, a
``func+0x1a/0x80`` frame, a register line, ``Modules linked in:``).
"""

from __future__ import annotations

import re

from harness.detect import formats as F

__all__ = ["TABLE", "match_header", "is_continuation", "shaped", "EVIDENCE"]

TABLE = F.compile_table()

EVIDENCE = re.compile(
    r"^(?:Call [Tt]race:|Backtrace:|Modules linked in:|RIP: [0-9a-f]{4}:|pc : |NIP: |epc : )"
    r"|\b[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+/0x[0-9a-f]+\b"
    r"|^CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: "
)


def match_header(text: str) -> F.CompiledClass | None:
    """The class of the report *text* starts, or None."""
    for cls in TABLE:
        if cls.spec.header in text:
            if any(r.search(text) for r in cls.ignore):
                return None
            return cls
    return None


def shaped(cls: F.CompiledClass, text: str) -> bool:
    """Does the header line *text* have the shape of a kernel report of *cls*?"""
    if not cls.spec.free_text:
        return True
    return any(title_re.search(text) for _, title_re, _ in cls.formats)


def is_continuation(text: str) -> bool:
    """A header printed in the course of the report already open."""
    return any(r.search(text) for r in F.CONTINUATION_HEADERS)
