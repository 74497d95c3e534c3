"""The prefilter: finds candidate lines in a raw chunk of bytes without
decoding or looking at each line (most of a console log is never decoded).

It must see every line that can start a report (``tests/test_scan.py``
checks each header of the format table) and every harness step marker.
"""

from __future__ import annotations

import re

__all__ = ["PREFILTER_RX", "PREFILTER_NEEDLES", "STAMPED", "prefilter_hits"]

PREFILTER_RX = re.compile(
    rb"[BWIUKPVSHOA](?:UG|ARN|NFO:|BSAN:|nable to handle|ernel panic|ANIC|FS: (?:Busy|Close)|YZF|ARNESS-STEP"
    rb"|ops: |nternal error|nhandled fault|lignment trap|ooting the kernel|atchdog detected hard)"
)
# Lines with a kernel timestamp (optionally behind the harness's host stamp),
# syslog's "host kernel: " and dmesg --ctime stamps.
STAMPED = re.compile(rb"(?m)^(?:\[host[^\]\n]*\] ?)?(?:<[0-9]+>)?\[ *[0-9]+\.[0-9]+\]"
                     rb"|^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} \S+ kernel: "
                     rb"|^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}\] ")
# Each needle costs one bytes.find pass over a chunk where it never occurs
# (about 4% of the scan time each): keep them few, and prefer an alternative
# in the regex after a first letter it already has (W: "Watchdog detected hard").
PREFILTER_NEEDLES = (b"general protection", b"stack segment", b"panic", b"divide error", b"divide_error",
                     b"invalid opcode", b"unregister_netdevice", b"unreferenced object", b"fatal error",
                     b"CFI failure")


def prefilter_hits(text: str) -> bool:
    """True when the prefilter would look at a line holding *text* (tests)."""
    b = text.encode()
    return bool(PREFILTER_RX.search(b)) or any(n in b for n in PREFILTER_NEEDLES)
