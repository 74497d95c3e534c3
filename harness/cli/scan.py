"""`harness scan`: the crash detector on any kernel log."""

from __future__ import annotations

import argparse
import json
import os
import sys

from harness.detect import FileScan, scan_files
from harness.detect.symbolize import Symbolizer, SymbolizeError
from harness.cli import COMMANDS

EPILOG = """\
exit status:
  0  every file was scanned and none holds a report
  1  a report was found (in any file, even when another file could not be scanned)
  2  no report was found and a file could not be scanned (missing, a directory,
     binary), or a usage error; the other files are still scanned and listed
     (--json: an entry with "error" for each file that could not be scanned)

NUL bytes (serial consoles emit runs of them around resets) are ignored; a file
is refused as binary only when its text, NULs left aside, is mostly control
characters, or its magic says it is an ELF/zstd/zip file. gzip, bzip2 and xz
logs are read directly."""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan",
        help=COMMANDS["scan"][1],
        description="Find every kernel report (oops, BUG, WARNING, KASAN, lockdep, hang, ...) "
        "in console logs or dmesg text.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("logs", nargs="+", metavar="LOG", help="log file(s); '-' reads standard input")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    p.add_argument("--text", action="store_true", help="with --json, include each report's text")
    p.add_argument("--vmlinux", metavar="PATH", help="symbolise frames with this vmlinux (addr2line)")
    p.add_argument("--module", metavar="KO", action="append", default=[],
                   help="a module .ko (or a directory of them) for symbolisation; repeatable")
    p.set_defaults(func=cmd_scan)


def exit_status(results: list[FileScan]) -> int:
    """1 if any report, else 2 if any file could not be scanned, else 0."""
    if any(r.reports for r in results):
        return 1
    return 2 if any(r.error for r in results) else 0


def _line(path: str, r) -> str:
    extra = [r.kind]
    if r.module:
        extra.append(f"module={r.module}")
    if r.last_unloaded:
        extra.append(f"last_unloaded={r.last_unloaded}")
    if r.step:
        extra.append(f"step={r.step}")
    if r.corrupted:
        extra.append("corrupted")
    return f"{path}:{r.start_line}-{r.end_line}: {r.title} [{' '.join(extra)}]"


def cmd_scan(args) -> int:
    symbolizer = None
    if args.vmlinux or args.module:
        # the binaries are read lazily, at the first frame: check them now, so a
        # wrong path is a usage error before any scanning, not a traceback after
        for opt, path in [("--vmlinux", args.vmlinux)] + [("--module", m) for m in args.module]:
            if path and not os.access(path, os.R_OK):
                print(f"harness scan: {opt} {path}: cannot read: "
                      f"{'no such file' if not os.path.exists(path) else 'permission denied'}",
                      file=sys.stderr)
                return 2
        try:
            symbolizer = Symbolizer(vmlinux=args.vmlinux, modules=args.module)
        except SymbolizeError as e:
            print(f"harness scan: {e}", file=sys.stderr)
            return 2
    results = scan_files(args.logs, read_stdin=sys.stdin.buffer.read)
    for res in results:
        if res.error:
            print(f"harness scan: {res.error}", file=sys.stderr)
        elif symbolizer is not None:
            try:
                for r in res.reports:
                    symbolizer.symbolize_report(r)
            except SymbolizeError as e:     # e.g. --vmlinux names a file that is not ELF
                print(f"harness scan: {e}", file=sys.stderr)
                return 2
    if args.json:
        out = []
        for res in results:
            item: dict = {"path": res.path, "reports": []}
            if res.error:
                item["error"] = res.error
            for r in res.reports:
                d = r.to_json()
                if not args.text:
                    d.pop("text", None)
                item["reports"].append(d)
            out.append(item)
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for res in results:
            for r in res.reports:
                print(_line(res.path, r))
    return exit_status(results)
