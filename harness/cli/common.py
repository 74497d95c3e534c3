"""Argument helpers shared by the command modules."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.core.config import HarnessConfig, load_config


def add_config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="harness YAML (default: configs/harness.yaml)")


def config_of(args) -> HarnessConfig:
    return load_config(Path(args.config) if getattr(args, "config", None) else None)
