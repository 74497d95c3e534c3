"""Reading logs from files: plain or compressed (gzip, bzip2, xz), with NUL
runs tolerated; a multi-file scan that reports a file it cannot read as an
error entry and goes on with the others.

What is refused (:class:`ScanError`): a missing or unreadable path, a
directory, a file whose magic says it is not a log (ELF, zstd, zip), and a
file whose first 64 KiB, NUL bytes left aside, is mostly control characters
(:func:`looks_binary`).  NUL bytes alone never make a log binary: serial
consoles emit runs of them after a reset or around a panic; they are dropped
as noise before scanning.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
from dataclasses import dataclass, field

from harness.detect.report import Report, ScanError
from harness.detect.scanner import Scanner, chunks, scan_bytes

__all__ = ["scan_file", "scan_files", "FileScan", "looks_binary"]

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x7fELF": "ELF",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
}
_OPENERS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
# Control bytes a text log does not hold (NUL, TAB, LF, VT, FF, CR and ESC are allowed).
_CONTROL = bytes(b for b in range(32) if b not in (0, 9, 10, 11, 12, 13, 27)) + b"\x7f"
_BINARY_SHARE = 0.05  # control bytes among the non-NUL bytes that make a file binary


def looks_binary(head: bytes) -> bool:
    """True when *head* (the start of a file) is not text: more than 5% of its
    non-NUL bytes are control characters.  NUL runs alone are console noise."""
    text = head.replace(b"\x00", b"")
    if not text:
        return False  # only NULs: nothing to scan, nothing binary either
    control = len(text) - len(text.translate(None, _CONTROL))
    return control > _BINARY_SHARE * len(text)


def scan_file(path) -> list[Report]:
    """Scan a log file (plain, or compressed with gzip/bzip2/xz)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except IsADirectoryError:
        raise ScanError(f"{path}: is a directory") from None
    except OSError as e:
        raise ScanError(f"{path}: cannot read: {e.strerror or e}") from None
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    if kind and kind not in _OPENERS:
        raise ScanError(f"{path}: binary file ({kind}), not a text log")
    opener = _OPENERS.get(kind, open)
    sc = Scanner()
    try:
        with opener(path, "rb") as f:
            first = True
            for chunk in chunks(f):
                if first:
                    if looks_binary(chunk[:65536]):
                        raise ScanError(f"{path}: binary file (control bytes), not a text log")
                    first = False
                sc.chunk(chunk)
    except ScanError:
        raise
    except (OSError, EOFError, lzma.LZMAError) as e:
        raise ScanError(f"{path}: cannot read: {e}") from None
    return sc.finish()


@dataclass
class FileScan:
    """The outcome of scanning one file of a multi-file scan."""

    path: str
    reports: list[Report] = field(default_factory=list)
    error: str | None = None  # why the file could not be scanned


def scan_files(paths, read_stdin=None) -> list[FileScan]:
    """Scan each path; a file that cannot be scanned becomes an entry with
    ``error`` set and the others are still scanned.  "-" reads *read_stdin()*
    (bytes)."""
    out = []
    for path in paths:
        path = os.fspath(path)
        try:
            if path == "-":
                if read_stdin is None:
                    raise ScanError("-: no standard input given")
                data = read_stdin()
                if looks_binary(data[:65536]):
                    raise ScanError("-: binary data (control bytes), not a text log")
                reports = scan_bytes(data)
            else:
                reports = scan_file(path)
        except ScanError as e:
            out.append(FileScan(path, [], str(e)))
            continue
        out.append(FileScan(path, reports))
    return out
