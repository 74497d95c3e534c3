"""Config validation: every mistake names file, key path and line; exit status 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.cli import main
from harness.core.config import load_config
from harness.core.errors import ConfigError


def write_project(tmp: Path, yaml_text: str) -> Path:
    (tmp / "configs/kconfig").mkdir(parents=True)
    (tmp / "configs/kconfig/base.config").write_text("CONFIG_PRINTK=y\n")
    (tmp / "kernel-patches/s1").mkdir(parents=True)
    (tmp / "kernel-patches/s1/series").write_text("")
    f = tmp / "configs/harness.yaml"
    f.write_text(textwrap.dedent(yaml_text))
    return f


GOOD = """\
sources:
  k: {debian: linux-source-6.12}
variants:
  base: {source: k}
  patched: {source: k, series: [s1]}
profiles:
  p: {fragments: [base.config]}
"""


def test_shipped_config_is_valid(root):
    cfg = load_config(root / "configs/harness.yaml")
    assert {"baseline", "rcu-ops", "inline-lock"} <= set(cfg.variants)
    assert cfg.variants["inline-lock"].series == ("rcu-ops", "inline-lock")
    assert {"debug", "fast"} <= set(cfg.profiles)


def test_good_minimal(tmp_path):
    cfg = load_config(write_project(tmp_path, GOOD))
    assert cfg.variants["patched"].series == ("s1",)
    assert cfg.guest.accel == "auto"


@pytest.mark.parametrize("text,key,line,words", [
    (GOOD + "bogus: 1\n", "bogus", 8, "unknown key"),
    (GOOD.replace("series: [s1]", "series: s1"), "variants.patched.series", 5, "expected a list"),
    (GOOD.replace("series: [s1]", "series: [nope]"), "variants.patched.series[0]", 5, "unknown series"),
    (GOOD.replace("{source: k}", "{source: zz}"), "variants.base.source", 4, "unknown source"),
    (GOOD.replace("[base.config]", "[missing.config]"), "profiles.p.fragments[0]", 7, "does not exist"),
    (GOOD + "guest: {smp: two}\n", "guest.smp", 8, "expected an integer"),
    (GOOD + "guest: {accel: xen}\n", "guest.accel", 8, "is not one of"),
    (GOOD.replace("{debian: linux-source-6.12}", "{debian: x, path: /y}"), "sources.k", 2, "exactly one"),
])
def test_errors_name_key_and_line(tmp_path, text, key, line, words):
    f = write_project(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    msg = str(exc.value)
    assert key in msg and words in msg and f"harness.yaml:{line}" in msg, msg


def test_yaml_syntax_error_has_line(tmp_path):
    f = write_project(tmp_path, GOOD + "variants: [\n")
    with pytest.raises(ConfigError, match=r"harness.yaml:\d+: .*invalid YAML"):
        load_config(f)


def test_cli_config_check_exit_status(tmp_path, capsys):
    f = write_project(tmp_path, GOOD + "oops: {}\n")
    assert main(["config", "check", str(f)]) == 2
    assert "unknown key 'oops'" in capsys.readouterr().err
    f.write_text(GOOD)
    assert main(["config", "check", str(f)]) == 0


def test_every_subcommand_has_help(capsys):
    from harness.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0, name


def test_commands_find_the_checkout_without_being_told(tmp_path):
    """`harness list` with no --config, from another folder: the project's own
    configs/harness.yaml (the package moved into subpackages once and looked in
    harness/configs/)."""
    import subprocess
    import sys
    env = {k: v for k, v in __import__("os").environ.items() if k != "HARNESS_ROOT"}
    proc = subprocess.run([sys.executable, "-m", "harness", "list"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "baseline" in proc.stdout and "scenarios:" in proc.stdout


def test_misspelt_key_suggests_the_right_one(tmp_path):
    p = tmp_path / "configs" / "harness.yaml"
    p.parent.mkdir()
    p.write_text("sources: {s: {debian: linux-source-6.12}}\nvariants: {v: {sorce: s}}\n"
                 "profiles: {p: {fragments: []}}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert "unknown key 'sorce'" in str(exc.value) and "did you mean 'source'?" in str(exc.value)
    assert ":2:" in str(exc.value)
