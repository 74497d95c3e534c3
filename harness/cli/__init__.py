"""`harness` command line: one subcommand per job, every one with --help.

The CLI is a thin face over library calls: each command module turns its
arguments into a library call and prints the answer. Errors carry their exit
status (harness.core.errors) and are mapped here, once.

Exit statuses: 0 success, 1 test failure/report found, 2 bad input
(config, patch, usage), 3 harness error.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from harness.core.errors import HarnessError, InputError

# One module per command, in `--help` order; each has register(subparsers).
COMMANDS = ("listing", "config_check", "build", "boot", "run", "repro", "merge", "bisect", "scan",
            "canary", "report", "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"harness.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # everything after `--` is a guest command, never a positional of ours
    rest = None
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    args = parser.parse_args(argv)
    if rest is not None:
        if not hasattr(args, "cmd"):
            parser.error(f"`--` is only for `harness boot`, not `{args.command}`")
        args.cmd = (args.cmd or []) + rest
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except HarnessError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        return 0
