"""The kselftests in the build stage: the config check against the selftests'
own config files, real builds of a collection (a broken one names itself and
its compiler error; programs come out static), and, with a real variant
build, the three collections installed and in the initramfs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.build import kselftests
from harness.build.kconfig import check_selftest_config, parse_config, selftest_config_mismatches
from harness.core.errors import BuildError, KconfigError
from harness.suites.kselftest import COLLECTIONS


def _tree(tmp_path: Path, configs: dict[str, str]) -> Path:
    for coll, text in configs.items():
        d = tmp_path / "tools/testing/selftests" / coll
        d.mkdir(parents=True)
        (d / "config").write_text(text)
    return tmp_path


def test_selftest_config_m_satisfies_y_and_names_file_line(tmp_path):
    tree = _tree(tmp_path, {"sync": "CONFIG_STAGING=y\nCONFIG_SW_SYNC=y\n",
                            "dmabuf-heaps": "CONFIG_DMABUF_HEAPS=y\nCONFIG_DRM_VGEM=y\n"})
    final = parse_config("CONFIG_STAGING=y\nCONFIG_SW_SYNC=y\nCONFIG_DMABUF_HEAPS=y\nCONFIG_DRM_VGEM=m\n")
    assert selftest_config_mismatches(tree, ("sync", "dmabuf-heaps"), final) == []
    final = parse_config("CONFIG_STAGING=y\n# CONFIG_SW_SYNC is not set\nCONFIG_DRM_VGEM=m\n")
    bad = selftest_config_mismatches(tree, ("sync", "dmabuf-heaps"), final)
    assert bad == [
        "tools/testing/selftests/sync/config:2: CONFIG_SW_SYNC=y requested, the final .config has not set",
        "tools/testing/selftests/dmabuf-heaps/config:1: CONFIG_DMABUF_HEAPS=y requested, "
        "the final .config has not set"]


def test_selftest_config_check_raises_input_error(tmp_path):
    tree = _tree(tmp_path, {"drivers/dma-buf": "CONFIG_UDMABUF=y\n"})
    with pytest.raises(KconfigError) as exc:
        check_selftest_config(tree, ("drivers/dma-buf",), "CONFIG_UDMABUF=n\n", "debug")
    assert exc.value.exit_status == 2
    assert "profile debug" in str(exc.value)
    assert "tools/testing/selftests/drivers/dma-buf/config:1: CONFIG_UDMABUF=y" in str(exc.value)
    # satisfied: no error
    check_selftest_config(tree, ("drivers/dma-buf",), "CONFIG_UDMABUF=m\n", "debug")


def test_shipped_profiles_satisfy_the_real_selftest_configs(cfg, source_tree):
    """base.config asks for every option the three collections' config files ask for,
    so the final .config (checked at build time) can satisfy them: here, the fragments."""
    from harness.build.kconfig import requests
    for prof in cfg.profiles.values():
        asked = {r.option: r.value for r in requests(prof.fragments)}
        bad = selftest_config_mismatches(source_tree.repo, COLLECTIONS, asked)
        assert bad == [], (prof.name, bad)


@pytest.mark.slow
def test_real_final_config_is_checked_against_the_real_selftest_configs(default_build, source_tree):
    """The check a build runs: the real .config passes; without SW_SYNC it names sync/config's line."""
    text = default_build.config_path.read_text()
    check_selftest_config(source_tree.repo, COLLECTIONS, text, "debug")
    broken = "\n".join(l for l in text.splitlines() if not l.startswith("CONFIG_SW_SYNC="))
    with pytest.raises(KconfigError, match=r"tools/testing/selftests/sync/config:\d+: CONFIG_SW_SYNC=y "
                                           r"requested, the final .config has not set"):
        check_selftest_config(source_tree.repo, COLLECTIONS, broken, "debug")


def test_is_static_elf(tmp_path):
    src = tmp_path / "x.c"
    src.write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-o", str(tmp_path / "dyn"), str(src)], check=True)
    subprocess.run(["gcc", "-static", "-o", str(tmp_path / "static"), str(src)], check=True)
    assert kselftests.is_static_elf(tmp_path / "static")
    assert not kselftests.is_static_elf(tmp_path / "dyn")
    assert not kselftests.is_static_elf(src)


def _selftests_skeleton(source_tree, tmp_path: Path) -> Path:
    """lib.mk and the kselftest headers of the real tree, in a scratch tree."""
    st = tmp_path / "tree/tools/testing/selftests"
    st.mkdir(parents=True)
    for rel in ("lib.mk", "kselftest.h", "kselftest_harness.h"):
        text = subprocess.run(["git", "-C", str(source_tree.repo), "show",
                               f"{source_tree.base_commit}:tools/testing/selftests/{rel}"],
                              check=True, capture_output=True, text=True).stdout
        (st / rel).write_text(text)
    return tmp_path / "tree"


def test_broken_collection_names_itself_and_its_first_error(source_tree, tmp_path):
    tree = _selftests_skeleton(source_tree, tmp_path)
    d = tree / "tools/testing/selftests/broken"
    d.mkdir()
    (d / "Makefile").write_text("TEST_GEN_PROGS := broken\ninclude ../lib.mk\n")
    (d / "broken.c").write_text('#include "../kselftest.h"\nint main(void) { return undeclared_thing; }\n')
    obj = tmp_path / "obj"
    obj.mkdir()
    linebuf = kselftests.build_linebuf(obj, {})
    with pytest.raises(BuildError) as exc:
        kselftests.build_collection(tree, "broken", obj / "broken", tmp_path / "out/broken",
                                    Path("/usr/include"), linebuf, {}, 1, obj / "broken.log")
    msg = str(exc.value)
    assert msg.startswith("kselftest broken failed to build")
    assert "broken.c:2" in msg and "undeclared_thing" in msg and "error" in msg


def test_collection_builds_static_and_line_buffered(source_tree, tmp_path):
    """A real collection (udmabuf) from the real tree: static, with the constructor linked in."""
    tree = _selftests_skeleton(source_tree, tmp_path)
    d = tree / "tools/testing/selftests/drivers/dma-buf"
    d.mkdir(parents=True)
    for name in ("Makefile", "udmabuf.c"):
        text = subprocess.run(["git", "-C", str(source_tree.repo), "show",
                               f"{source_tree.base_commit}:tools/testing/selftests/drivers/dma-buf/{name}"],
                              check=True, capture_output=True, text=True).stdout
        (d / name).write_text(text)
    obj = tmp_path / "obj"
    obj.mkdir()
    linebuf = kselftests.build_linebuf(obj, {})
    found = kselftests.build_collection(tree, "drivers/dma-buf", obj / "dma-buf", tmp_path / "out/dma-buf",
                                        Path("/usr/include"), linebuf, {}, 1, obj / "dma-buf.log")
    assert [p.name for p in found] == ["udmabuf"]
    assert kselftests.is_static_elf(found[0])
    syms = subprocess.run(["nm", str(found[0])], capture_output=True, text=True).stdout
    assert "harness_stdout_line_buffered" in syms
    # on the host (no /dev/udmabuf, or not root) it still speaks KTAP: header and plan come first
    out = subprocess.run([str(found[0])], capture_output=True, text=True, timeout=30).stdout
    assert out.startswith("TAP version 13\n1..6\n")


@pytest.mark.slow
def test_variant_build_has_the_kselftests_in_its_initramfs(default_build, root, tmp_path):
    from harness.build.initramfs import build_initramfs
    b = default_build
    assert sorted(b.kselftests) == ["dmabuf-heaps/dmabuf-heap", "drivers/dma-buf/udmabuf", "sync/sync_functional",
                                    "sync/sync_test"]
    for rel in b.kselftests:
        assert kselftests.is_static_elf(b.kselftest_dir / rel), rel
    assert (b.objdir / "usr/include/linux/sync_file.h").is_file()     # the variant's headers_install
    cpio = build_initramfs(b, root)
    listing = subprocess.run(["cpio", "-t"], stdin=open(cpio, "rb"), capture_output=True, text=True).stdout
    for rel in b.kselftests:
        assert f"usr/lib/kselftests/{rel}" in listing.splitlines(), rel
    assert "usr/share/harness/ksft-run" in listing.splitlines()
