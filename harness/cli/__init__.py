"""`harness` command line: one subcommand per job, every one with --help.

The CLI is a thin face over library calls: each command module turns its
arguments into a library call and prints the answer. Errors carry their exit
status (harness.core.errors) and are mapped here, once.

Exit statuses: 0 success, 1 test failure/report found, 2 bad input
(config, patch, usage), 3 harness error (including any unexpected exception:
one line on stderr, the traceback in a log file it names).

The project folder (configs/harness.yaml, kernel-patches/, guest-modules/)
is --root, else $HARNESS_ROOT, else the current directory, else the checkout
the package runs from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from harness import __version__
from harness.core.config import cache_root
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
    "export": ("export", "export a run's results in another format (KCIDB)"),
}
_TOP_OPTIONS_WITH_VALUE = ("--root",)


def _chosen(argv: list[str]) -> str | None:
    """The command named on the command line (the first word that is neither an
    option nor the value of a top-level option)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--":
            return None
        if a in _TOP_OPTIONS_WITH_VALUE:
            skip = True
            continue
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
    parser.add_argument("--version", action="version",
                        version=f"harness {__version__} ({Path(__file__).resolve().parent.parent})")
    parser.add_argument("--root", metavar="DIR",
                        help="the project folder, holding configs/harness.yaml (default: "
                             "$HARNESS_ROOT, else the current directory, else the checkout the "
                             "package runs from)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"harness.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    parser.set_defaults(guest_command=False)
    parser.commands = sub.choices     # name -> parser, for the `--` rule in main()
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = _chosen(argv)
    parser = build_parser(only) if only else build_parser()
    # `harness boot VARIANT -- CMD...`: everything after `--` is the guest's
    # command line, never a positional or option of ours. For every other
    # command `--` keeps its usual meaning (the end of options: `scan -- LOG`).
    rest = None
    if "--" in argv:
        i = argv.index("--")
        command = next((a for a in argv[:i] if a in parser.commands), None)
        if command and parser.commands[command].get_default("guest_command"):
            argv, rest = argv[:i], argv[i + 1:]
    args = parser.parse_args(argv)
    if rest is not None:
        args.cmd = (args.cmd or []) + rest
    return run_command(args.func, args, argv)


def run_command(func, args, argv: list[str]) -> int:
    """Call a command; map every way it can end to an exit status, once."""
    try:
        return int(func(args) or 0)
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
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line and a log, never a traceback
        log = crash_log(argv, exc)
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"harness: internal error: {type(exc).__name__}: {first} (traceback in {log})",
              file=sys.stderr)
        return HarnessError.exit_status


def crash_log(argv: list[str], exc: BaseException) -> Path:
    """Write the traceback of an unexpected exception to a file; return its path."""
    text = (f"harness {__version__}: {' '.join(['harness', *argv])}\n"
            f"cwd: {os.getcwd()}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    name = f"crash-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (cache_root() / "crashes", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text)
            return path
        except OSError:
            continue
    return Path("(could not be written)")
