"""One console line: its prefixes (host stamp, syslog level, kernel timestamp,
caller id) and what is left of it.

Line prefixes understood (and stripped): the harness's host timestamp
``[host +12.345] ``, syslog levels ``<6>``, kernel timestamps
``[   12.345678]`` optionally followed by a caller id ``[ T123]``/``[  C1]``,
syslog's ``Nov 29 12:00:00 host kernel: `` and dmesg's ``--ctime``/``iso``
stamps.  A line's *context* is ""
(no kernel timestamp: firmware, user space, or a log printed without
timestamps), "console" (a timestamp only) or the caller id ("T123"/"C1"):
lines of one caller id belong to one report (CONFIG_PRINTK_CALLER keeps
interleaved reports apart).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Line", "make_line", "split_prefix", "STEP", "MAX_LINE"]

_HOST_PREFIX = re.compile(r"^\[host [^\]]*\] ?")
_CONSOLE_PREFIX = re.compile(
    r"^(?:\*\* [0-9]+ printk messages dropped \*\* )?(?:.* login: )?(?:<[0-9]+>)?"
    r"\[ *[0-9]+\.[0-9]+\](?: ?(\[ *[CT][0-9]+\]))?(?: |$)"
)
_SYSLOG_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} \S+ kernel: ")
# dmesg --ctime ("[Sat Nov 29 12:00:00 2025] ") and --time-format iso ("2025-11-29T12:00:00,123456+00:00 ")
_DMESG_TIME_PREFIX = re.compile(
    r"^(?:\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}\]"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[,.][0-9]+[+-][0-9:]{4,5}) "
)
_QUESTIONABLE = re.compile(r"^(?:\[<[0-9a-f]+>\])? ?\? ")
STEP = re.compile(r"HARNESS-STEP(-END)?: *(\S.*?)\s*$")

MAX_LINE = 1024  # characters kept of one line


@dataclass
class Line:
    """A console line without its prefixes."""

    no: int          # 1-based line number in the log
    ctx: str         # "", "console" or a caller id
    text: str
    questionable: bool  # a "? func+0x.." frame the unwinder is unsure of


def split_prefix(line: str) -> tuple[str, str]:
    """Return (context, text) of a raw line (see the module docstring)."""
    if line.startswith("[host"):
        line = _HOST_PREFIX.sub("", line, count=1)
    m = _CONSOLE_PREFIX.match(line)
    if m:
        ctx = m.group(1)
        ctx = ctx[1:-1].strip() if ctx else "console"
        return ctx, line[m.end():]
    m = _SYSLOG_PREFIX.match(line) or _DMESG_TIME_PREFIX.match(line)
    if m:
        return "console", line[m.end():]
    return "", line


def make_line(raw: str, no: int) -> Line:
    """Parse a raw line (with or without its line ending)."""
    if len(raw) > MAX_LINE:
        raw = raw[:MAX_LINE]
    if "\x00" in raw:  # serial consoles emit NUL runs around resets: noise
        raw = raw.replace("\x00", "")
    ctx, text = split_prefix(raw.rstrip("\r\n"))
    text = text.rstrip("\r")
    questionable = bool(_QUESTIONABLE.match(text)) and "<EOI>" not in text
    return Line(no, ctx, text, questionable)
