"""One entry point for a series named on the command line: an mbox file, a
folder of patches, or a git range BASE..TIP (in --tree, default the current
directory)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.core.errors import InputError
from harness.intake.folder import patch_from_file, read_folder
from harness.intake.gitrange import looks_like_range, read_git_range
from harness.intake.mail import split_mbox
from harness.intake.mbox import read_mbox
from harness.intake.series import Series, patch_filename


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


def read_series_args(args: list[str], tree: Path | None = None) -> Series:
    """The series named by one or more arguments.

    One argument is an mbox, a folder or a range. Several are applied in the
    order given, as `git am a.patch b.patch` would (e.g. patch files from
    different places): their patches are concatenated and numbered 1..n.
    """
    if not args:
        raise InputError("no series given (an mbox, a folder of patches, or BASE..TIP)")
    if len(args) == 1:
        return read_series_arg(args[0], tree)
    parts = [_one_patch_or_series(a, tree) for a in args]
    ranges = [p.origin for p in parts if p.source == "git-range"]
    if ranges:
        raise InputError(f"a git range ({ranges[0]}) is a whole series: give it alone, not with other "
                         "series arguments")
    patches = [replace(p, index=i, filename=patch_filename(i, p.subject))
               for i, p in enumerate((p for s in parts for p in s.patches), 1)]
    return Series(patches=tuple(patches), source="files", origin=" ".join(args),
                  revision=max(p.revision for p in parts),
                  notes=tuple(n for p in parts for n in p.notes))


def _one_patch_or_series(arg: str, tree: Path | None) -> Series:
    """A file holding one patch mail is that patch (its `k/n` is of the series it was
    cut from, not a claim that the others are missing); anything else, a series."""
    path = Path(arg).expanduser()
    if path.is_file():
        data = path.read_bytes()
        if len(split_mbox(data)) == 1:
            p = patch_from_file(data, path.name, 1, f"patch file {str(path)!r}")
            return Series(patches=(p,), source="file", origin=str(path), revision=p.revision)
    return read_series_arg(arg, tree)
