"""The folder intake: patch files in a folder, in the order of its quilt
`series` file, or by name (`git format-patch -o DIR` output) when it has none.

Each file is a mail-formatted patch (`git format-patch`), kept byte for byte;
a file holding several patches (an mbox listed in a `series` file) is read
as an mbox. Anything that is not a patch is an error naming the file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.core.errors import InputError, PatchError
from harness.intake.mail import mail_identity, split_mbox, subject_prefix
from harness.intake.mbox import parse_mbox
from harness.intake.patches import vet_text
from harness.intake.series import Series, SeriesPatch, patch_filename

PATCH_SUFFIXES = (".patch", ".diff")


def read_folder(path: Path) -> Series:
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"series folder {str(folder)!r} does not exist")
    files = _listed(folder)
    patches: list[SeriesPatch] = []
    for file, where in files:
        data = file.read_bytes()
        mails = split_mbox(data)
        if len(mails) > 1:
            inner = parse_mbox(data, str(file))
            for p in inner.patches:
                patches.append(_renumbered(p, len(patches) + 1))
            continue
        patches.append(patch_from_file(data, file.name, len(patches) + 1, where))
    revisions = sorted({p.revision for p in patches})
    notes = () if len(revisions) < 2 else (f"patches of revisions {revisions} mixed in one folder",)
    return Series(patches=tuple(patches), source="folder", origin=str(folder),
                  revision=revisions[-1] if revisions else 1, notes=notes)


def _listed(folder: Path) -> list[tuple[Path, str]]:
    """(patch file, how messages name it) in series order."""
    sfile = folder / "series"
    if not sfile.is_file():
        names = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(PATCH_SUFFIXES))
        if not names:
            raise InputError(f"series folder {str(folder)!r}: no `series` file and no "
                             f"{'/'.join('*' + s for s in PATCH_SUFFIXES)} files")
        return [(p, f"series folder {str(folder)!r}: file {p.name!r}") for p in names]
    out = []
    for n, line in enumerate(sfile.read_text(errors="replace").splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        name = name.split()[0]     # quilt allows options (-p1) after the name
        at = f"{sfile}:{n}"
        if name == "series":
            raise PatchError(f"{at}: the series file lists itself ({name!r}); "
                             "it names the patch files, it is not one")
        p = folder / name
        if name.startswith("/") or ".." in Path(name).parts:
            raise PatchError(f"{at}: patch file {name!r} points outside the folder")
        if not p.is_file():
            raise PatchError(f"{at}: patch file {name!r} not found in {folder}")
        out.append((p, f"series folder {str(folder)!r}: file {name!r} (listed at {at})"))
    if not out:
        raise InputError(f"{sfile}: lists no patch files")
    return out


def patch_from_file(data: bytes, filename: str, index: int, where: str) -> SeriesPatch:
    """One `git format-patch` file, kept as it is, with its identity read from it."""
    vet_text(data, where)
    (mail,) = split_mbox(data)
    prefix = subject_prefix(str(mail.msg["Subject"] or ""))
    subject, author, date = mail_identity(mail.raw)
    if not (subject or prefix.subject):
        raise PatchError(f"{where}: has no Subject: header (expected `git format-patch` output)")
    return SeriesPatch(index=index, filename=filename, data=data, subject=subject or prefix.subject,
                       author=author, date=date, commit=mail.commit, message_id=mail.message_id,
                       number=prefix.number, total=prefix.total, revision=prefix.revision)


def _renumbered(p: SeriesPatch, index: int) -> SeriesPatch:
    return replace(p, index=index, filename=patch_filename(index, p.subject))
