"""Issue 16, fast half: the holes that let the gate pass wrongly or mislead, each
pinned by a test that failed before its fix (no guest needed here; the real-guest
checks are in test_trust_e2e.py and test_faults*.py).

1 an n/a where the variant expects something else is a FAILED cell everywhere
2 -k is one expression language, repeated -k narrows
3 shards split by build, balanced, disjoint, and together the run
4 harness errors exit 3, also when cells failed too
5 CLI edges: tracebacks, --version, config check --config, scan --, counts, typos
6 results are 0644 under the usual umask
7 the project folder is found explicitly, installed or not
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.model import CellResult
from harness.cli import main
from harness.core.errors import InputError
from harness.output.results import RunResults
from harness.run.matrix import Cell, select, shard
from harness.run.reporter import Reporter

ROOT = Path(__file__).resolve().parent.parent


def harness(*args, cwd=ROOT, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def cell(cid, outcome, passed, harness_error=False, why=""):
    v, p, s = cid.split(".")
    return CellResult.from_json(
        {"id": cid, "variant": v, "profile": p, "scenario": s, "outcome": outcome,
         "expected": "clean", "passed": passed, "harness_error": harness_error, "flaky": False,
         "reports": [], "duration_s": 0.0, "steps": [], "why": why, "detail": why})


# -- 1: n/a ------------------------------------------------------------------

MISSING = "feature inline_lock missing on this build, but clean is expected on this variant"


def test_unexpected_na_counts_as_failed_everywhere(tmp_path):
    rr = RunResults(tmp_path, "r")
    rr.add_cell(cell("inline-lock.debug.stash-inline", "n/a", False, why=MISSING))
    rr.add_cell(cell("baseline.debug.stash-inline", "n/a", True, why="kernel lacks inline lock"))
    s = rr.write_summary(complete=True, exit_status=1)
    assert s["totals"]["failed"] == 1 and s["totals"]["n/a"] == 1, s["totals"]
    cases = {tc.get("classname"): tc for tc in ET.parse(tmp_path / "r/junit.xml").getroot().iter("testcase")}
    assert cases["inline-lock.debug"].find("failure") is not None      # not "skipped"
    assert cases["inline-lock.debug"].find("skipped") is None
    assert cases["baseline.debug"].find("skipped") is not None
    md = (tmp_path / "r/summary.md").read_text()
    assert "## Failed cells" in md and "inline-lock.debug.stash-inline" in md.split("## Failed cells")[1]


def test_unexpected_na_is_a_fail_on_the_terminal(tmp_path):
    out = tmp_path / "progress.txt"
    with open(out, "w") as f:
        rep = Reporter(2, stream=f)
        rep.cell_done(cell("inline-lock.debug.stash-inline", "n/a", False, why=MISSING))
        rep.cell_done(cell("baseline.debug.stash-inline", "n/a", True))
    text = out.read_text()
    assert rep.failed == 1
    assert "FAIL  inline-lock.debug.stash-inline" in text and "n/a   baseline.debug.stash-inline" in text


def test_page_counts_an_unexpected_na_as_failed(tmp_path):
    from harness.output.html import write_report
    rr = RunResults(tmp_path, "r")
    rr.add_cell(cell("inline-lock.debug.stash-inline", "n/a", False, why=MISSING))
    rr.write_summary(complete=True, exit_status=1)
    page = write_report(tmp_path / "r").read_text()
    assert ">FAIL</span>" in page and ">PASS</span>" not in page


# -- 2: -k -------------------------------------------------------------------

class _Scen:
    def __init__(self, *tags):
        self.tags = tags


CELLS = [Cell(v, "debug", s) for v in ("baseline", "inline-lock")
         for s in ("stash-drop", "vgem-close", "query-names", "stash-inline-drop")]
SCEN = {"stash-drop": _Scen("stash"), "vgem-close": _Scen("vgem", "stash"), "query-names": _Scen("query"),
        "stash-inline-drop": _Scen("stash", "inline")}


def ids(expr):
    return [c.id for c in select(CELLS, expr, SCEN)]


def test_k_repeated_narrows():
    # before: -k stash -k 'not vgem' was an OR: every cell
    assert ids(["stash", "not vgem"]) == ids(["stash and not vgem"])
    assert set(ids(["stash", "not vgem"])) == {"baseline.debug.stash-drop", "baseline.debug.stash-inline-drop",
                                               "inline-lock.debug.stash-drop",
                                               "inline-lock.debug.stash-inline-drop"}


@pytest.mark.parametrize("expr,want", [
    ("stash", 6),                                   # substring of the id, or a tag (vgem-close has it)
    ("vgem or query", 4),
    ("not stash", 2),
    ("inline-lock and (query or vgem)", 2),
    ("inline-lock and query or vgem", 3),           # and binds tighter than or
    ("not (stash or query)", 0),
    ("baseline.*.stash-*", 2),                      # glob on the id
    ("*inline-drop", 2),
    ("STASH and INLINE", 4),                        # case does not matter; "inline" is in inline-lock too
    ("Baseline and tag-less", 0),
    ("not not vgem", 2),
])
def test_k_expression_language(expr, want):
    assert len(ids([expr])) == want, ids([expr])


@pytest.mark.parametrize("expr,where", [
    ("stash and", "the end"), ("(stash", "the end"), ("stash)", "')'"), ("and stash", "'and'"),
    ("", "empty"), ("stash vgem", "'vgem'"), ("not", "the end"), ("()", "')'"),
])
def test_k_malformed_names_the_expression(expr, where):
    with pytest.raises(InputError) as exc:
        select(CELLS, [expr], SCEN)
    assert repr(expr) in str(exc.value) and where in str(exc.value)


def test_k_cli_bad_expression_exits_2(capsys):
    assert main(["run", "--list", "-k", "stash and (vgem"]) == 2
    err = capsys.readouterr().err
    assert "-k 'stash and (vgem'" in err and "expected ')'" in err


def test_k_cli_narrows_on_the_shipped_matrix(capsys):
    assert main(["run", "--list", "-k", "stash"]) == 0
    stash = capsys.readouterr().out.split()
    assert main(["run", "--list", "-k", "stash", "-k", "not baseline"]) == 0
    narrowed = capsys.readouterr().out.split()
    assert narrowed and set(narrowed) < set(stash) and not any(c.startswith("baseline.") for c in narrowed)


def test_k_is_documented():
    readme = (ROOT / "README.md").read_text()
    assert "-k 'stash and not vgem'" in readme
    text = " ".join(harness("run", "--help").stdout.split())
    assert "'not X', 'X and Y', 'X or Y', parentheses" in text and "repeated -k: all must hold" in text


# -- 3: shards ---------------------------------------------------------------

def builds_of(cells):
    return {(c.variant, c.profile) for c in cells}


class _Step:
    def __init__(self, t):
        self.timeout_s = t


class _Timed:
    def __init__(self, *steps, budget=15.0):
        self.steps, self.timeout_s, self.tags = [_Step(t) for t in steps], budget, ()


@pytest.mark.parametrize("n_builds,n_shards", [(3, 2), (3, 3), (5, 2), (6, 4), (2, 3), (1, 4), (3, 5)])
def test_shards_by_build_disjoint_union_is_the_run(n_builds, n_shards):
    scen = {f"s{i}": _Timed(5 * (i + 1)) for i in range(8)}
    cells = [Cell(f"v{b}", "debug", s) for b in range(n_builds) for s in scen]
    parts = [shard(cells, f"{k}/{n_shards}", scen) for k in range(1, n_shards + 1)]
    flat = [c for p in parts for c in p]
    assert sorted(c.id for c in flat) == sorted(c.id for c in cells)        # the union is the run
    assert len(flat) == len(set(flat))                                       # disjoint cells
    if n_builds >= n_shards:
        for i in range(n_shards):
            for j in range(i + 1, n_shards):
                assert not builds_of(parts[i]) & builds_of(parts[j]), (i, j)  # no build made twice
    else:
        assert all(parts) and all(len(builds_of(p)) == 1 for p in parts)   # one build per shard
    for p in parts:                                                          # the run's order kept
        assert p == [c for c in cells if c in p]


def test_shards_balance_estimated_time():
    # one heavy build (long selftests) and four light ones: LPT puts the heavy one alone
    scen = {"long": _Timed(300, budget=300), "short": _Timed(10)}
    cells = [Cell("heavy", "debug", "long")] + [Cell(f"light{i}", "debug", "short") for i in range(4)]
    a, b = shard(cells, "1/2", scen), shard(cells, "2/2", scen)
    heavy_side = a if Cell("heavy", "debug", "long") in a else b
    assert builds_of(heavy_side) == {("heavy", "debug")}


def test_shards_on_the_shipped_matrix_build_once(capsys):
    builds = []
    for k in (1, 2, 3):
        assert main(["run", "--list", "--shard", f"{k}/3"]) == 0
        builds.append({cid.split(".")[0] for cid in capsys.readouterr().out.split()})
    assert all(len(b) == 1 for b in builds) and len(set().union(*builds)) == 3


def test_ci_templates_cache_ccache():
    readme = (ROOT / "README.md").read_text()
    assert "actions/cache" in readme and "~/.cache/harness/ccache" in readme
    gitlab = readme.split("GitLab CI")[1]
    assert "cache:" in gitlab and "ccache" in gitlab


# -- 4: exit 3 ---------------------------------------------------------------

def test_gate_status_harness_errors_win():
    from harness.run.session import gate_status
    ok, fail = cell("v.p.a", "clean", True), cell("v.p.b", "report", False)
    err = cell("v.p.c", "error", False, harness_error=True, why="qemu-failed: ...")
    build = cell("v.p.d", "error", False, why="build failed: ...")
    assert gate_status([ok]) == 0
    assert gate_status([ok, fail]) == 1
    assert gate_status([ok, build]) == 1                 # the series broke the build: the gate's no
    assert gate_status([ok, err]) == 3
    assert gate_status([fail, err]) == 3                 # before: 1, and 3 unreachable
    assert gate_status([fail, err], input_error=True) == 2
    assert gate_status([fail, err], interrupted=True) == 130


def test_both_kinds_counted_in_the_summary(tmp_path):
    rr = RunResults(tmp_path, "r")
    rr.add_cell(cell("v.p.b", "report", False, why="unexpected report"))
    rr.add_cell(cell("v.p.c", "error", False, harness_error=True, why="qemu-failed: no memory"))
    t = rr.write_summary(complete=True, exit_status=3)["totals"]
    assert t["failed"] == 1 and t["errors"] == 1


def test_judge_marks_harness_errors():
    from harness.run.judge import judge
    from harness.scenarios.spec import Expectation
    assert judge("error", "qemu-failed: x", [], Expectation("clean")).harness_error
    assert judge("error", "harness error: KeyError()", [], Expectation("clean")).harness_error
    assert not judge("error", "build failed: make exit 2", [], Expectation("clean")).harness_error
    assert not judge("error", "kernel cannot report KASAN", [], Expectation("clean")).harness_error
    assert not judge("report", "", [], Expectation("clean")).harness_error


def test_merge_of_a_shard_with_a_harness_error_exits_3(tmp_path):
    a, b = RunResults(tmp_path / "a", "r"), RunResults(tmp_path / "b", "r")
    a.add_cell(cell("v.p.s1", "report", False)); a.write_summary(True, 1)
    b.add_cell(cell("v.p.s2", "error", False, harness_error=True)); b.write_summary(True, 3)
    assert main(["merge", str(tmp_path / "a/r"), str(tmp_path / "b/r"), "--results", str(tmp_path / "m")]) == 3


# -- 5: CLI edges ------------------------------------------------------------

LOG = ROOT / "tests/fixtures/scan/dma_fence_pf_6.12.log"


def test_scan_vmlinux_missing_is_a_usage_error():
    proc = harness("scan", str(LOG), "--vmlinux", "/nonexistent")
    assert proc.returncode == 2, proc.stderr          # before: a traceback, exit 1 ("report found")
    assert "Traceback" not in proc.stderr and "/nonexistent" in proc.stderr


def test_unexpected_exception_exits_3_with_one_line_and_a_log(tmp_path):
    # a real unexpected exception: a summary whose build entries lack their keys (a summary
    # without cells at all is refused as bad input, exit 2, by the results loader)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/summary.json").write_text('{"cells": [], "builds": [{}]}')
    env = dict(os.environ, HARNESS_CACHE=str(tmp_path / "cache"))
    proc = harness("merge", str(tmp_path / "bad"), "--results", str(tmp_path / "m"), env=env)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    log = Path(lines[0].rsplit("traceback in ", 1)[1].rstrip(")"))
    assert log.is_file() and "Traceback" in log.read_text() and "KeyError" in log.read_text()


def test_version():
    from harness import __version__
    proc = harness("--version")
    assert proc.returncode == 0 and proc.stdout.startswith(f"harness {__version__}")


def test_config_check_takes_config_option(capsys):
    assert main(["config", "check", "--config", str(ROOT / "configs/harness.yaml")]) == 0
    assert ": ok (" in capsys.readouterr().out
    assert main(["config", "check", str(ROOT / "configs/harness.yaml")]) == 0


def test_scan_double_dash_ends_options(capsys):
    assert main(["scan", "--", str(LOG)]) == 1          # a report: found, not a usage error
    assert "dma_fence_release" in capsys.readouterr().out


@pytest.mark.parametrize("args,words", [
    (["run", "--list", "-j", "-1"], "-j/--jobs: -1 is below 1"),
    (["run", "--list", "-j", "0"], "-j/--jobs: 0 is below 1"),
    (["run", "--list", "--retries", "-2"], "--retries: -2 is below 0"),
    (["build", "-j", "-4"], "-j/--jobs: -4 is below 1"),
])
def test_negative_counts_refused(capsys, args, words):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2 and words in capsys.readouterr().err


def test_command_line_variant_typo_is_not_blamed_on_the_config(capsys):
    assert main(["build", "inline-lokc"]) == 2
    err = capsys.readouterr().err.strip()
    # before: "configs/harness.yaml: unknown variant ..." as if the file were wrong
    assert err.startswith("harness: error: command line: unknown variant 'inline-lokc'"), err
    assert main(["canary", "baseline", "--profile", "debgu"]) == 2
    assert "command line: unknown profile 'debgu'" in capsys.readouterr().err


# -- 6: results readable by others --------------------------------------------

def test_results_files_are_0644(tmp_path):
    from harness.core.util import write_atomic
    old = os.umask(0o022)
    try:
        rr = RunResults(tmp_path, "r")
        rr.add_cell(cell("v.p.s", "clean", True), {"console.log": "x\n"})
        rr.write_summary(complete=True, exit_status=0)
        from harness.output.html import write_report
        write_report(tmp_path / "r")
        write_atomic(tmp_path / "other", "x")
        os.umask(0o077)
        write_atomic(tmp_path / "private", "x")
    finally:
        os.umask(old)
    for f in ("summary.json", "junit.xml", "summary.md", "index.html", "cells/v.p.s/cell.json",
              "cells/v.p.s/console.log"):
        assert stat.S_IMODE((tmp_path / "r" / f).stat().st_mode) == 0o644, f
    assert stat.S_IMODE((tmp_path / "other").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600   # the umask still rules
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()], "temp files left"


def test_write_failure_is_a_harness_error_naming_the_file(tmp_path):
    from harness.core.errors import HarnessError
    from harness.core.util import write_atomic
    (tmp_path / "results").write_text("a file where a folder should be")
    with pytest.raises(HarnessError, match=r"results/summary.json: cannot write") as exc:
        write_atomic(tmp_path / "results/summary.json", "{}")
    assert exc.value.exit_status == 3 and isinstance(exc.value, OSError)


# -- 7: the project folder ------------------------------------------------------

@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package as `pip install .` leaves it: in a site-packages far from any checkout."""
    site = tmp_path_factory.mktemp("site-packages")
    shutil.copytree(ROOT / "harness", site / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def run_installed(site, *args, cwd, env_root=None):
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_ROOT", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    if env_root:
        env["HARNESS_ROOT"] = str(env_root)
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=env)


def test_installed_outside_the_checkout(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_installed(installed, "list", cwd=elsewhere)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr
    # before: ".../site-packages/configs/harness.yaml: cannot read"
    for tried in ("--root (not given)", "$HARNESS_ROOT (not given)", f"current directory {elsewhere}",
                  str(installed)):
        assert tried in err, err
    for how in (dict(cwd=ROOT), dict(cwd=elsewhere, env_root=ROOT)):
        proc = run_installed(installed, "list", **how)
        assert proc.returncode == 0 and "inline-lock" in proc.stdout, (how, proc.stderr)
    for args in (["--root", str(ROOT), "list"], ["list", "--root", str(ROOT)]):
        proc = run_installed(installed, *args, cwd=elsewhere)
        assert proc.returncode == 0 and "inline-lock" in proc.stdout, (args, proc.stderr)


def test_explicit_root_that_does_not_fit_is_an_error(installed, tmp_path):
    proc = run_installed(installed, "list", cwd=ROOT, env_root=tmp_path)
    assert proc.returncode == 2 and f"$HARNESS_ROOT {tmp_path}: no configs/harness.yaml" in proc.stderr
    proc = run_installed(installed, "--root", str(tmp_path), "list", cwd=ROOT)
    assert proc.returncode == 2 and f"--root {tmp_path}: no configs/harness.yaml" in proc.stderr
