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

# command -> (module of harness.cli with register(subparsers), one-line help), in --help order
COMMANDS = {
    "list": ("listing", "variants, profiles and scenarios from the config"),
    "config": ("config_check", "configuration commands"),
    "build": ("build", "build a kernel variant (cached by content key)"),
    "boot": ("boot", "boot a variant under QEMU; run CMD or give a console"),
    "run": ("run", "run the matrix (variants x profiles x scenarios)"),
    "gate": ("gate", "gate a patch series (mbox, folder, git range) against its base"),
    "repro": ("repro", "re-run one cell of a results folder"),
    "merge": ("merge", "join shard results into one summary and JUnit"),
    "bisect": ("bisect", "find the patch of a variant at which a scenario's outcome changes"),
    "scan": ("scan", "find kernel crash reports in console logs"),
    "canary": ("canary", "check that a build can report each class of crash"),
    "report": ("report", "write the static results page (index.html) of a run"),
}


def _chosen(argv: list[str]) -> str | None:
    """The command named on the command line (the first word that is not an option)."""
    for a in argv:
        if a == "--":
            return None
        if not a.startswith("-"):
            return a if a in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `only`, the other commands are listed but not imported.

    Each command module imports the library it drives at its top; importing all
    of them (QEMU glue, the detector's tables, the page renderer) costs every
    command more than its own work, so only the chosen one is imported.
    """
    parser = argparse.ArgumentParser(prog="harness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"harness.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = _chosen(argv)
    parser = build_parser(only) if only else build_parser()
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
