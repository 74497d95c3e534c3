"""Real guests: the upstream kselftests run on a variant's own build, their
subtests reach summary.json, and the KCIDB export of the run (with a crash
cell for issues/incidents) validates with kcidb-io."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from kcidb_io import schema

pytestmark = pytest.mark.slow

SCENARIOS = ["kselftest-sync", "kselftest-udmabuf", "kselftest-dmabuf-heaps", "stash-signaled-drop-after-unload"]


def harness(root, *args, timeout=1800):
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=root, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def ksft_run(root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ksft")
    m = tmp / "matrix.yaml"
    m.write_text(f"variants: [baseline]\nprofiles: [debug]\nscenarios: {json.dumps(SCENARIOS)}\n")
    proc = harness(root, "run", "--matrix", str(m), "--results", str(tmp / "results"), "-j", "1")
    summary = json.loads((tmp / "results/latest/summary.json").read_text())
    return proc, summary, tmp / "results/latest"


def _subtests(cell) -> Counter:
    return Counter(t["result"] for s in cell["steps"] for t in s.get("subtests", []))


def test_kselftests_run_and_count_their_subtests(ksft_run):
    proc, summary, _ = ksft_run
    cells = {c["scenario"]: c for c in summary["cells"]}
    assert set(cells) == set(SCENARIOS), proc.stderr[-3000:]
    for name in SCENARIOS[:3]:
        assert cells[name]["outcome"] == "clean" and cells[name]["passed"], cells[name]
    assert _subtests(cells["kselftest-sync"]) == {"pass": 7}
    assert _subtests(cells["kselftest-udmabuf"]) == {"pass": 5, "skip": 1}     # no hugetlbfs
    assert _subtests(cells["kselftest-dmabuf-heaps"]) == {"pass": 11}         # system heap, vgem import
    names = [t["name"] for s in cells["kselftest-sync"]["steps"] for t in s.get("subtests", [])]
    assert "sync_functional/test_fence_multi_timeline_wait" in names
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_kcidb_export_of_the_real_run_validates(root, ksft_run, tmp_path):
    _, summary, results = ksft_run
    out = tmp_path / "kcidb.json"
    proc = harness(root, "export", "kcidb", str(results), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    schema.V5_3.validate_exactly(data)
    n_sub = sum(sum(_subtests(c).values()) for c in summary["cells"])
    assert len(data["tests"]) == len(summary["cells"]) + n_sub
    crash = next(c for c in summary["cells"] if c["scenario"] == "stash-signaled-drop-after-unload")
    assert crash["reports"] and len(data["incidents"]) == len(crash["reports"])
    assert data["issues"] and all(i["report_subject"] for i in data["issues"])
    assert all(Path(t["log_url"][len("file://"):]).is_file() for t in data["tests"] if "log_url" in t)
