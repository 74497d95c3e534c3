"""`harness scan`: the crash detector on any kernel log."""

from __future__ import annotations

import json
import os
import sys

from harness.detect import ScanError, scan_bytes, scan_file
from harness.detect.symbolize import Symbolizer, SymbolizeError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan",
        help="find kernel crash reports in console logs",
        description="Find every kernel report (oops, BUG, WARNING, KASAN, lockdep, hang, ...) "
        "in console logs or dmesg text. Exit status: 0 no report, 1 reports found, "
        "2 usage or read error.",
    )
    p.add_argument("logs", nargs="+", metavar="LOG", help="log file(s); '-' reads standard input")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    p.add_argument("--text", action="store_true", help="with --json, include each report's text")
    p.add_argument("--vmlinux", metavar="PATH", help="symbolise frames with this vmlinux (addr2line)")
    p.add_argument("--module", metavar="KO", action="append", default=[],
                   help="a module .ko (or a directory of them) for symbolisation; repeatable")
    p.set_defaults(func=cmd_scan)


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
    results = []
    errors = 0
    found = 0
    for path in args.logs:
        try:
            if path == "-":
                reports = scan_bytes(sys.stdin.buffer.read())
            else:
                reports = scan_file(path)
        except ScanError as e:
            errors += 1
            print(f"harness scan: {e}", file=sys.stderr)
            results.append({"path": path, "error": str(e), "reports": []})
            continue
        if symbolizer is not None:
            try:
                for r in reports:
                    symbolizer.symbolize_report(r)
            except SymbolizeError as e:     # e.g. --vmlinux names a file that is not ELF
                print(f"harness scan: {e}", file=sys.stderr)
                return 2
        found += len(reports)
        results.append({"path": path, "reports": reports})
    if args.json:
        out = []
        for res in results:
            item = {"path": res["path"], "reports": []}
            if "error" in res:
                item["error"] = res["error"]
            for r in res["reports"]:
                d = r.to_json()
                if not args.text:
                    d.pop("text", None)
                item["reports"].append(d)
            out.append(item)
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for res in results:
            for r in res["reports"]:
                extra = []
                if r.module:
                    extra.append(f"module={r.module}")
                if r.last_unloaded:
                    extra.append(f"last_unloaded={r.last_unloaded}")
                if r.step:
                    extra.append(f"step={r.step}")
                if r.corrupted:
                    extra.append("corrupted")
                tail = (" [" + " ".join(extra) + "]") if extra else ""
                print(f"{res['path']}:{r.start_line}-{r.end_line}: {r.kind}: {r.title}{tail}")
    if errors:
        return 2
    return 1 if found else 0
