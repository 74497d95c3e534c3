"""One entry point for a series named on the command line: an mbox file, a
folder of patches, or a git range BASE..TIP (in --tree, default the current
directory)."""

from __future__ import annotations

from pathlib import Path

from harness.core.errors import InputError
from harness.intake.folder import read_folder
from harness.intake.gitrange import looks_like_range, read_git_range
from harness.intake.mbox import read_mbox
from harness.intake.series import Series


def read_series_arg(arg: str, tree: Path | None = None) -> Series:
    """The series `arg` names, decided by what it is: a folder, a file, or a range."""
    path = Path(arg).expanduser()
    if path.is_dir():
        return read_folder(path)
    if path.is_file():
        return read_mbox(path)
    if path.exists():
        raise InputError(f"series {arg!r}: neither a file nor a folder")
    if looks_like_range(arg):
        return read_git_range(arg, tree)
    raise InputError(f"series {arg!r}: no such file or folder, and not a git range BASE..TIP")
