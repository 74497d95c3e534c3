"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.core.config import HarnessConfig, load_config


def add_config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="harness YAML (default: configs/harness.yaml "
                                                    "of the project folder)")
    # also accepted after the command; SUPPRESS keeps a top-level --root
    p.add_argument("--root", metavar="DIR", default=argparse.SUPPRESS,
                   help="the project folder (default: $HARNESS_ROOT, else the current directory, "
                        "else the package's checkout)")


def config_of(args) -> HarnessConfig:
    root = getattr(args, "root", None)
    return load_config(Path(args.config) if getattr(args, "config", None) else None,
                       root=Path(root) if root else None)


def count(minimum: int):
    """An argparse type: an integer >= minimum, refused with a message otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse
