"""harness gate for real: a series of our own against 6.12, built and booted.

tests/fixtures/series/fence-signal-twice: three patches to dma-fence.c (built
into vmlinux); the first two are harmless, the third warns when a fence is
signaled twice, which the dma-buf selftests do on purpose. The gate must
fail with the regression bisected to patch 3, and the two harmless patches
alone must pass. One scenario (dmabuf-selftests) keeps it short; the base
run is cached between the two gates.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main

pytestmark = pytest.mark.slow

SERIES = Path(__file__).parent / "fixtures" / "series"
SCENARIO = "dmabuf-selftests"


def gate(tmp_path: Path, *series: str, extra=()) -> tuple[int, Path | None]:
    root = tmp_path / "results"
    # the runtime answer only: the per-patch static checks have tests of their own (test_checks.py)
    status = main(["gate", *series, "-k", SCENARIO, "--results", str(root), "--no-canary",
                   "--checks", "runtime", *extra])
    latest = root / "latest"
    return status, (latest.resolve() if latest.exists() else None)


@pytest.fixture(scope="module")
def failing_gate(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gate")
    status, gdir = gate(tmp, str(SERIES / "fence-signal-twice.mbox"), extra=["--kcidb", str(tmp / "kcidb.json")])
    return status, gdir


def test_a_regression_fails_the_gate_bisected_to_its_patch(failing_gate):
    status, gdir = failing_gate
    assert status == 1
    g = json.loads((gdir / "gate.json").read_text())
    (cell,) = g["cells"]
    assert cell["verdict"] == "regression" and cell["fails_gate"] and cell["scenario"] == SCENARIO
    assert cell["culprit"] == 3, cell
    assert set(cell["prefix_outcomes"]) <= {"1", "2"} and all(o.startswith("clean")
                                                            for o in cell["prefix_outcomes"].values())
    assert [p["culprit_of"] != [] for p in g["patches"]] == [False, False, True]
    md = (gdir / "gate.md").read_text()
    assert "first bad patch: **3/3 'dma-buf: warn when a fence is signaled twice'**" in md
    assert "WARNING in dma_fence_signal_timestamp_locked" in md and "harness repro " in md
    # the series travels with the results (repro without the mbox), and the page shows the gate
    assert sorted(p.name for p in (gdir / "patches").glob("*.patch")) == \
        sorted(p.name for p in (SERIES / "fence-signal-twice").glob("*.patch"))
    assert "id=gate" in (gdir / "index.html").read_text()
    junit = (gdir / "gate-junit.xml").read_text()
    assert "patch 3/3: dma-buf: warn when a fence is signaled twice" in junit


def test_gate_kcidb_file_validates_and_carries_the_series(failing_gate):
    from kcidb_io import schema
    _, gdir = failing_gate
    data = json.loads((gdir.parent.parent / "kcidb.json").read_text())
    schema.V5_3.validate_exactly(data)
    # the series' checkout names the gated patches; the regression's report is an issue
    hashes = {c.get("patchset_hash") for c in data["checkouts"]}
    assert any(h for h in hashes), data["checkouts"]
    assert data.get("issues"), "the crash report is not an issue"


def test_the_harmless_patches_alone_pass(failing_gate, tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for p in sorted((SERIES / "fence-signal-twice").glob("000[12]-*.patch")):
        shutil.copy(p, folder / p.name)
    status, gdir = gate(tmp_path, str(folder))
    assert status == 0, (gdir / "gate.md").read_text() if gdir else "no results"
    g = json.loads((gdir / "gate.json").read_text())
    assert g["passed"] and [c["verdict"] for c in g["cells"]] == ["unchanged"]
    assert g["base_cached"], "the base run of the first gate was not reused"


def test_repro_of_a_gate_cell_needs_only_the_results(failing_gate, tmp_path):
    """The results folder alone (as a CI artifact) reproduces the crash: the
    series is read from its patches/, not from the mbox."""
    _, gdir = failing_gate
    copy = tmp_path / "artifact"
    shutil.copytree(gdir, copy, symlinks=True)
    cell = next((copy / "cells").glob(f"*.{SCENARIO}"))
    assert main(["repro", str(cell), "--results", str(tmp_path / "r")]) == 0


def test_a_series_that_does_not_apply_is_bad_input_and_leaves_nothing(tmp_path):
    """rcu-ops rewrites the lines patch 3 changes: on it the series does not apply."""
    root = tmp_path / "results"
    status = main(["gate", str(SERIES / "fence-signal-twice.mbox"), "--on", "rcu-ops", "-k", SCENARIO,
                   "--results", str(root), "--no-canary", "--checks", "runtime"])
    assert status == 2
    assert not root.exists() or not any(root.iterdir()), "a refused series left results behind"


def test_gate_names_the_patch_that_brings_a_sparse_warning(tmp_path):
    """The robot's first answer on the dma-fence series, from the gate: a comparison of
    fence->ops without rcu_access_pointer() is sparse's "different address spaces" in
    patch 2; patch 1 is clean. Static checks only (no guests)."""
    root = tmp_path / "results"
    folder = Path(__file__).parent / "fixtures" / "checks" / "series-sparse"
    status = main(["gate", str(folder), "--on", "rcu-ops", "--checks", "sparse,checkpatch",
                   "--results", str(root)])
    assert status == 1
    g = json.loads((root / "latest" / "gate.json").read_text())
    p1, p2 = g["patches"]
    assert p1["check_failures"] == [] and p2["check_failures"], g["patches"]
    assert p2["check_failures"][0].startswith("sparse:")
    md = (root / "latest" / "gate.md").read_text()
    assert ">> drivers/dma-buf/sw_sync.c:91" in md and "different address spaces" in md
    assert g["cells"] == []              # no runtime asked for
