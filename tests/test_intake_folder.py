"""The folder intake, the Series type's storage, and read_series_arg's choice."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.core.errors import InputError, PatchError
from harness.intake.folder import read_folder
from harness.intake.mbox import read_mbox
from harness.intake.patches import read_series
from harness.intake.read import read_series_arg
from harness.intake.series import Series, patch_filename

FIX = Path(__file__).parent / "fixtures" / "series"
FOLDER = FIX / "fence-signal-twice"
ROOT = Path(__file__).resolve().parent.parent


def copy_folder(tmp: Path) -> Path:
    d = tmp / "s"
    shutil.copytree(FOLDER, d)
    return d


def test_folder_with_series_file_keeps_files_as_they_are():
    s = read_folder(FOLDER)
    names = (FOLDER / "series").read_text().split()
    assert [p.filename for p in s.patches] == names
    assert [p.data for p in s.patches] == [(FOLDER / n).read_bytes() for n in names]
    assert [p.subject for p in s.patches] == [p.subject for p in read_mbox(FIX / "fence-signal-twice.mbox").patches]
    assert all(p.commit and p.message_id is None for p in s.patches)
    assert s.source == "folder" and s.origin == str(FOLDER)


def test_series_file_order_wins_over_names(tmp_path):
    d = copy_folder(tmp_path)
    names = (d / "series").read_text().split()
    (d / "series").write_text("# reversed, with a quilt option\n" + "\n".join(f"{n} -p1" for n in reversed(names)) + "\n")
    assert [p.filename for p in read_folder(d).patches] == list(reversed(names))


def test_name_order_without_series_file(tmp_path):
    d = copy_folder(tmp_path)
    (d / "series").unlink()
    (d / "README").write_text("not listed, not a .patch: ignored in name order\n")
    s = read_folder(d)
    assert [p.index for p in s.patches] == [1, 2, 3]
    assert [p.filename for p in s.patches] == sorted(p.name for p in d.glob("*.patch"))


def test_a_non_patch_file_is_named(tmp_path):
    d = copy_folder(tmp_path)
    (d / "notes.txt").write_text("remember to test this\n")
    (d / "series").write_text((d / "series").read_text() + "notes.txt\n")
    with pytest.raises(PatchError) as exc:
        read_folder(d)
    msg = str(exc.value)
    assert "file 'notes.txt'" in msg and "series:4" in msg and "is not a patch" in msg


def test_series_file_listing_itself(tmp_path):
    d = copy_folder(tmp_path)
    (d / "series").write_text("series\n" + (d / "series").read_text())
    with pytest.raises(PatchError, match=r"series:1: the series file lists itself \('series'\)"):
        read_folder(d)


def test_shipped_series_file_listing_itself_names_the_file(tmp_path):
    """The same mistake in a kernel-patches/ folder (read_series), quoted."""
    d = tmp_path / "kp" / "x"
    shutil.copytree(FOLDER, d)
    (d / "series").write_text((d / "series").read_text() + "series\n")
    with pytest.raises(PatchError, match=r"series x: .*series:4: the series file lists itself \('series'\)"):
        read_series(tmp_path / "kp", "x")
    (d / "series").write_text((d / "series").read_text().replace("series\n", "README.md\n"))
    (d / "README.md").write_text("# notes\n")
    with pytest.raises(PatchError, match=r"series 'x': file 'README.md' \(listed at .*series:4\) is not a patch"):
        read_series(tmp_path / "kp", "x")


@pytest.mark.parametrize("name", ["../outside.patch", "/etc/passwd"])
def test_series_file_pointing_outside(tmp_path, name):
    d = copy_folder(tmp_path)
    (d / "series").write_text(name + "\n")
    with pytest.raises(PatchError, match="points outside the folder"):
        read_folder(d)


def test_missing_listed_file_and_empty_folders(tmp_path):
    d = copy_folder(tmp_path)
    (d / "series").write_text("0009-nope.patch\n")
    with pytest.raises(PatchError, match=r"series:1: patch file '0009-nope.patch' not found"):
        read_folder(d)
    (d / "series").write_text("# nothing\n")
    with pytest.raises(InputError, match="lists no patch files"):
        read_folder(d)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"no `series` file and no \*.patch/\*.diff files"):
        read_folder(empty)


def test_mbox_listed_in_a_series_file(tmp_path):
    """kernel-patches/README.md allows `echo rcu.mbx > series`."""
    d = tmp_path / "m"
    d.mkdir()
    shutil.copy(FIX / "fence-signal-twice.mbox", d / "all.mbx")
    (d / "series").write_text("all.mbx\n")
    s = read_folder(d)
    assert [p.index for p in s.patches] == [1, 2, 3] and s.patches[2].filename.startswith("0003-")


def test_the_shipped_series_read_as_folders(cfg):
    for name in ("rcu-ops", "inline-lock"):
        s = read_folder(cfg.series_dir / name)
        assert [p.sha256 for p in s.patches] == [p.sha256 for p in read_series(cfg.series_dir, name)]


# -- Series storage ---------------------------------------------------------------------------

def test_write_to_and_load_round_trip(tmp_path):
    s = read_mbox(FIX / "fence-signal-twice-v1-v2.mbox")
    out = s.write_to(tmp_path / "results" / "series")
    assert sorted(p.name for p in out.iterdir()) == sorted([p.filename for p in s.patches] + ["series", "series.json"])
    back = Series.load(out)
    assert back == s and back.key == s.key
    # the stored folder is itself a series folder
    assert [p.data for p in read_folder(out).patches] == [p.data for p in s.patches]
    d = json.loads((out / "series.json").read_text())
    assert d["patches"][1]["message_id"] == "20250106.v2-2.harness-tests@example.org"
    assert d["revision"] == 2 and d["cover_subject"].startswith("dma-buf: spelling")
    # rewriting replaces, leaving no temporary folders behind
    s.prefix(2).write_to(out)
    assert len(Series.load(out).patches) == 2
    assert sorted(p.name for p in out.parent.iterdir()) == ["series"]


def test_json_with_embedded_patches():
    s = read_mbox(FIX / "fence-signal-twice.mbox")
    d = json.loads(json.dumps(s.to_json(embed=True)))
    assert Series.from_json(d) == s
    with pytest.raises(InputError, match="no patch data and no folder"):
        Series.from_json(s.to_json())


def test_load_refuses_edited_patches(tmp_path):
    s = read_folder(FOLDER)
    out = s.write_to(tmp_path / "st")
    f = out / s.patches[1].filename
    f.write_bytes(f.read_bytes().replace(b"Remove one.", b"Remove two."))
    with pytest.raises(InputError, match=r"patch 2 '0002-.*': content changed since the series was recorded"):
        Series.load(out)
    with pytest.raises(InputError, match="no readable series.json"):
        Series.load(tmp_path)


def test_json_refuses_file_names_with_paths(tmp_path):
    s = read_folder(FOLDER)
    out = s.write_to(tmp_path / "st")
    d = json.loads((out / "series.json").read_text())
    d["patches"][0]["filename"] = "../../etc/passwd"
    with pytest.raises(InputError, match="is not a plain file name"):
        Series.from_json(d, out)


def test_patch_filename_is_format_patch_naming():
    assert patch_filename(3, "dma-buf: warn when a fence is signaled twice") == \
        "0003-dma-buf-warn-when-a-fence-is-signaled-twice.patch"
    assert patch_filename(1, "a/b: ../x") == "0001-a-b-.-x.patch"


# -- read_series_arg ---------------------------------------------------------------------------

def test_read_series_arg_decides_by_what_it_is(tmp_path):
    assert read_series_arg(str(FOLDER)).source == "folder"
    assert read_series_arg(str(FIX / "fence-signal-twice.mbox")).source == "mbox"
    # one patch file is an mbox of one message: patch 1/3 alone is an incomplete series
    with pytest.raises(InputError, match="patch 2/3, patch 3/3 missing"):
        read_series_arg(str(FOLDER / (FOLDER / "series").read_text().split()[0]))
    with pytest.raises(InputError, match="no such file or folder, and not a git range"):
        read_series_arg(str(tmp_path / "nope.mbox"))
    with pytest.raises(InputError, match="not a git tree"):
        read_series_arg("v6.12..HEAD", tree=tmp_path)


def test_traversal_and_binary_in_a_folder_name_the_file(tmp_path):
    d = copy_folder(tmp_path)
    name = (d / "series").read_text().split()[1]
    f = d / name
    f.write_text(f.read_text().replace("a/drivers/dma-buf/dma-fence.c", "a/../etc/shadow"))
    with pytest.raises(PatchError, match=rf"file '{re.escape(name)}' \(listed at .*series:2\) line \d+: "
                                         r"path '../etc/shadow' points outside the kernel tree"):
        read_folder(d)
    f.write_text((FOLDER / name).read_text().replace("diff --git", "GIT binary patch\ndiff --git", 1))
    with pytest.raises(PatchError, match=rf"file '{re.escape(name)}' .*binary content is not accepted"):
        read_folder(d)
