"""Which line starts a report, and whether it has a kernel's shape.

A line holding a class's ``header`` (and none of its ``ignore`` regexes)
starts a report of that class, if the line is the kernel's:

- For classes whose header is free text that firmware, boot loaders, test
  harnesses and programs print too (``WARNING:``, ``BUG:``, ``INFO:`` ...;
  ``ReportClass.free_text``) the line must have the shape of a kernel report:
  a title format of its class matches the line (``WARNING: CPU: 0 PID: 1 at
  file.c:12 func+0x1/0x2``, ``WARNING: suspicious RCU usage``, ``BUG: KASAN:
  ...``, a bare ``INFO:`` cut short), or it is a kernel message of its own
  (a kernel timestamp, then the word: ``WARNING: foo``, which syzkaller
  counts too).
- A line without a kernel timestamp must start with the header's message
  (not indented or quoted: a crash pasted in a commit message is not one).

Any other such line -- free text without a timestamp (firmware, boot
loaders, CI harnesses, programs), the word inside a kernel message after its
prefix (``RETBleed: WARNING: ...``), a quoted header, a Go ``panic:`` -- is
a report only if evidence follows it in its context (:data:`EVIDENCE`: a
call trace, a frame line, a register line, ``Modules linked in:``, a
goroutine dump).  The scanner keeps such a report provisional and drops it
if none comes.
"""

from __future__ import annotations

import re

from harness.detect import formats as F

__all__ = ["TABLE", "match_header", "is_continuation", "needs_evidence", "shaped", "own_message", "EVIDENCE"]

TABLE = F.compile_table()

EVIDENCE = re.compile(
    r"^(?:Call [Tt]race:|Backtrace:|Modules linked in:|RIP: [0-9a-f]{4}:|pc : |NIP: |epc : )"
    r"|^\s*(?:\? )?(?:\[<?[0-9a-f]+>?\] )*\(?[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+/0x[0-9a-f]+\b"  # a frame line
    r"| from \[<[0-9a-f]+>\] \("  # arm: "[<c0123456>] (foo) from [<c0234567>] (bar+0x10/0x20)"
    r"|^CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: "
    r"|^goroutine [0-9]+ \[|^runtime stack:"  # the Go runtime's dump after "panic:"/"fatal error:"
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


def own_message(cls: F.CompiledClass, ctx: str, text: str) -> bool:
    """A kernel message (timestamped) that starts with the header word."""
    return bool(ctx) and text.startswith(cls.spec.header)


def needs_evidence(cls: F.CompiledClass, ctx: str, text: str) -> bool:
    """Is the header line *text* a report only if kernel evidence follows?

    Free text without a kernel's shape (see the module docstring), a class
    that always needs it (a Go "panic:"), and a header line without a kernel
    timestamp that does not start its line (indented or quoted: a crash
    report pasted into a commit message, a mail, a test's output) -- the
    kernel prints its report headers as messages of their own."""
    if cls.spec.needs_evidence:
        return True
    if not shaped(cls, text) and not own_message(cls, ctx, text):
        return True
    return not ctx and not text[:1].isalnum()
