"""The real default build, and the kconfig checks that guard every build."""

from __future__ import annotations

import pytest

from harness.build.kernel import build_key, ensure_build, first_errors
from harness.core.config import Profile
from harness.core.errors import KconfigError
from harness.build.kconfig import make_config, mismatches, parse_config, requests


def test_mismatches_lists_requested_vs_actual(tmp_path):
    frag = tmp_path / "f.config"
    frag.write_text("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_D=\"x\"\n")
    final = parse_config('CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D="x"\n')
    bad = mismatches(requests([frag]), final)
    assert bad == ["CONFIG_B: requested not set (f.config:2), got y",
                   "CONFIG_C: requested m (f.config:3), got not set"]


def test_fragment_syntax_error_names_line(tmp_path):
    frag = tmp_path / "f.config"
    frag.write_text("CONFIG_A=y\nthis is not kconfig\n")
    with pytest.raises(KconfigError, match=r"f.config:2: not a config line"):
        requests([frag])


def test_first_errors_extracts_compiler_errors():
    log = ("  CC      drivers/dma-buf/dma-fence.o\n"
           "drivers/dma-buf/dma-fence.c:12:5: error: 'foo' undeclared (first use in this function)\n"
           "   12 |     foo = 1;\n"
           "      |     ^~~\n"
           "drivers/dma-buf/dma-fence.c:13:1: warning: unused variable 'x'\n"
           "make[4]: *** [scripts/Makefile.build:229: drivers/dma-buf/dma-fence.o] Error 1\n")
    errs = first_errors(log)
    assert errs[0].startswith("drivers/dma-buf/dma-fence.c:12:5: error: 'foo' undeclared")
    assert not any("warning" in e for e in errs)


@pytest.mark.slow
def test_impossible_option_is_reported_by_name(source_tree, tmp_path):
    """KASAN cannot coexist with SLUB_TINY: the validator must say KASAN did not stick."""
    frag = tmp_path / "impossible.config"
    frag.write_text("CONFIG_SLUB_TINY=y\nCONFIG_KASAN=y\nCONFIG_PRINTK=y\n")
    prof = Profile("impossible", "tinyconfig", (frag,))
    # the shared work tree may be on any variant: any is fine for kconfig
    with pytest.raises(KconfigError) as exc:
        make_config(source_tree.repo, tmp_path / "obj", prof)
    msg = str(exc.value)
    assert "CONFIG_KASAN: requested y (impossible.config:2), got not set" in msg


@pytest.mark.slow
def test_default_build_and_no_change_rebuild(cfg, default_build):
    b = default_build
    assert b.bzimage.is_file() and b.vmlinux.is_file()
    assert (b.objdir / "System.map").is_file()
    assert (b.modroot / "lib/modules" / b.release).is_dir()
    conf = b.config()
    for opt in ("CONFIG_KASAN", "CONFIG_PROVE_LOCKING", "CONFIG_PROVE_RCU", "CONFIG_BUG",
                "CONFIG_PRINTK_TIME", "CONFIG_KALLSYMS_ALL", "CONFIG_PREEMPT", "CONFIG_MODULE_UNLOAD"):
        assert conf.get(opt) == "y", opt
    for opt in ("CONFIG_DMABUF_SELFTESTS", "CONFIG_DRM_VGEM", "CONFIG_LKDTM"):
        assert conf.get(opt) == "m", opt
    assert b.source["version"].startswith("6.12")
    # unchanged inputs: no make (the state, not a time: make would rewrite build.log)
    log_stamp = (b.dir / "build.log").stat().st_mtime_ns
    again = ensure_build(cfg, cfg.variant(b.variant), cfg.profile(b.profile))
    assert not again.built and again.key == b.key
    assert (b.dir / "build.log").stat().st_mtime_ns == log_stamp


@pytest.mark.slow
def test_key_changes_with_each_input(cfg, default_build, source_tree, tmp_path):
    from harness.build.kernel import compiler_version
    from harness.intake.patches import apply_variant
    v, p = cfg.variant(None), cfg.profile(None)
    applied = apply_variant(source_tree, v.name, v.series, cfg.series_dir)
    base = build_key(source_tree, applied, p, compiler_version(), "g1")
    assert base == build_key(source_tree, applied, p, compiler_version(), "g1")
    assert base != build_key(source_tree, applied, p, compiler_version(), "g2")
    assert base != build_key(source_tree, applied, p, "gcc 99", "g1")
    frag = tmp_path / "extra.config"
    frag.write_text("CONFIG_PRINTK=y\n")
    p2 = Profile(p.name, p.base, p.fragments + (frag,))
    assert base != build_key(source_tree, applied, p2, compiler_version(), "g1")
