"""A patch series as a gate receives it: ordered patches with their identity.

Every intake (mbox, folder, git range) returns a `Series`. It carries the
patch files themselves (bytes), so a gate's results folder can hold the whole
series (`write_to`) and `harness repro` can rebuild from that folder plus a
checkout, without the mbox or the user's tree (`Series.load`).

A folder written by `write_to` is also a quilt-style series folder (a
`series` file listing the patches in order), so the folder intake and
`kernel-patches/` layouts read it too.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from harness.core.errors import InputError
from harness.core.util import read_json, sha256_text, write_atomic, write_json

SERIES_JSON = "series.json"
SCHEMA = 1


@dataclass(frozen=True)
class SeriesPatch:
    """One patch of a series: `git am` input plus what identifies it."""

    index: int                  # 1-based position in the series, the order it applies in
    filename: str               # the patch file's name inside a series folder
    data: bytes = field(repr=False)
    subject: str                # without the [PATCH vN k/n] prefix
    author: str = ""            # "Name <email>" of the patch's author
    date: str = ""              # the author date as the patch gives it (RFC 2822)
    commit: str | None = None   # the git commit it was made from, when known
    message_id: str | None = None   # as posted (None for format-patch output without one)
    number: int | None = None   # k of [PATCH k/n], when the subject has counters
    total: int | None = None    # n of [PATCH k/n]
    revision: int = 1           # N of [PATCH vN]

    @property
    def sha256(self) -> str:
        return sha256_text(self.data)

    def describe(self, of: int | None = None) -> str:
        """`2/3 'dma-buf: ...' (0002-dma-buf-....patch)`: how messages name a patch."""
        n = of if of is not None else self.total
        pos = f"{self.index}/{n}" if n else str(self.index)
        return f"patch {pos} {self.subject!r} ({self.filename})"

    def to_json(self, embed: bool = False) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "data"}
        d["sha256"] = self.sha256
        if embed:
            d["data_base64"] = base64.b64encode(self.data).decode()
        return d


@dataclass(frozen=True)
class Series:
    """An ordered patch series plus where it came from."""

    patches: tuple[SeriesPatch, ...]
    source: str                  # which intake: "mbox", "folder", "git-range"
    origin: str                  # what the user named: the mbox/folder path, or TREE:BASE..TIP
    revision: int = 1            # the series' revision (vN), newest when several were present
    cover_subject: str | None = None   # the cover letter's subject, without its prefix
    base_commit: str | None = None     # git range: the BASE the series applies on
    tree: str | None = None            # git range: the user's tree (read, never modified)
    notes: tuple[str, ...] = ()        # what the intake skipped or chose (older revisions, replies)

    @property
    def title(self) -> str:
        """The cover letter's subject, else the first patch's."""
        if self.cover_subject:
            return self.cover_subject
        return self.patches[0].subject if self.patches else "(empty series)"

    @property
    def key(self) -> str:
        """A content id: the patches' bytes in order (names and dates do not count)."""
        return sha256_text("\n".join(p.sha256 for p in self.patches))

    def prefix(self, n: int) -> "Series":
        """The first n patches (bisection over the series)."""
        if not 0 <= n <= len(self.patches):
            raise ValueError(f"prefix {n} of a {len(self.patches)}-patch series")
        return replace(self, patches=self.patches[:n])

    def describe(self) -> str:
        rev = f" v{self.revision}" if self.revision > 1 else ""
        return f"{self.source} {self.origin}{rev}: {len(self.patches)} patch(es), {self.title!r}"

    # -- serialisation -----------------------------------------------------
    def to_json(self, embed: bool = False) -> dict:
        """The series' identity; with embed=True also the patch bytes (base64)."""
        d = {k: v for k, v in asdict(self).items() if k != "patches"}
        d["notes"] = list(self.notes)
        return {"schema": SCHEMA, **d, "key": self.key,
                "patches": [p.to_json(embed) for p in self.patches]}

    @classmethod
    def from_json(cls, d: dict, folder: Path | None = None) -> "Series":
        """Inverse of to_json: patch bytes from the JSON (embedded) or from `folder`.

        Every patch's sha256 is checked: a folder whose files were edited after
        the series was recorded is not the series that was gated.
        """
        where = str(folder / SERIES_JSON) if folder else "series JSON"
        if d.get("schema") != SCHEMA:
            raise InputError(f"{where}: unknown series schema {d.get('schema')!r} (expected {SCHEMA})")
        patches = []
        for i, p in enumerate(d.get("patches", []), 1):
            p = dict(p)
            want = p.pop("sha256", None)
            if "data_base64" in p:
                data = base64.b64decode(p.pop("data_base64"))
            elif folder is not None:
                name = p.get("filename", "")
                if not _plain_name(name):
                    raise InputError(f"{where}: patch {i}: file name {name!r} is not a plain file name")
                try:
                    data = (folder / name).read_bytes()
                except OSError as exc:
                    raise InputError(f"{where}: patch {i}: cannot read {name!r}: {exc.strerror}") from None
            else:
                raise InputError(f"{where}: patch {i}: no patch data and no folder to read it from")
            sp = SeriesPatch(data=data, **p)
            if want and sp.sha256 != want:
                raise InputError(f"{where}: patch {i} {sp.filename!r}: content changed since the series "
                                 f"was recorded (sha256 {sp.sha256[:12]}, recorded {want[:12]})")
            patches.append(sp)
        fields = {k: d.get(k) for k in ("source", "origin", "revision", "cover_subject", "base_commit", "tree")}
        fields["revision"] = fields["revision"] or 1
        return cls(patches=tuple(patches), notes=tuple(d.get("notes", ())), **fields)

    def write_to(self, folder: Path) -> Path:
        """Write the patch files, a quilt `series` file and series.json into folder.

        All or nothing: the files go to a temporary sibling first, which then
        replaces the folder, so an interrupted write leaves no half series.
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for p in self.patches:
                (tmp / p.filename).write_bytes(p.data)
            write_atomic(tmp / "series", "".join(p.filename + "\n" for p in self.patches))
            write_json(tmp / SERIES_JSON, self.to_json())
            if folder.exists():
                old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
                os.replace(folder, old)
                os.replace(tmp, folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: Path) -> "Series":
        folder = Path(folder)
        d = read_json(folder / SERIES_JSON)
        if d is None:
            raise InputError(f"{folder}: no readable {SERIES_JSON} (not a folder written by a gate)")
        return cls.from_json(d, folder)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def patch_filename(index: int, subject: str) -> str:
    """`git format-patch`'s naming: 0001-dma-buf-fix-the-thing.patch (52 chars of subject)."""
    slug = re.sub(r"\.{2,}", ".", _UNSAFE.sub("-", subject)).strip("-.")[:52].rstrip("-.") or "patch"
    return f"{index:04d}-{slug}.patch"


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and name not in (".", "..") and not name.startswith(".")
