"""KCIDB export: the patchset hash as KCIDB defines it (checked against the
shell command of its schema), the export of a recorded real run (validated
with kcidb-io), bad input, and the export of a run made here with real
guests (slow)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kcidb_io import schema

from harness.core.errors import HarnessError, InputError
from harness.output import kcidb

FIX = Path(__file__).parent / "fixtures" / "kcidb"
ROOT = Path(__file__).resolve().parent.parent


def test_patchset_hash_is_the_schema_shell_command(tmp_path):
    """KCIDB: `sha256sum *.patch | cut -c-64 | sha256sum | cut -c-64`, in series order."""
    series = ROOT / "kernel-patches" / "rcu-ops"
    names = [l.strip() for l in (series / "series").read_text().splitlines() if l.strip() and not l.startswith("#")]
    paths = [series / n for n in names]
    shell = subprocess.run("sha256sum " + " ".join(str(p) for p in paths) + " | cut -c-64 | sha256sum | cut -c-64",
                           shell=True, capture_output=True, text=True, check=True).stdout.strip()
    hashes = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    assert kcidb.patchset_hash(hashes) == shell
    assert kcidb.patchset_hash([]) == ""


@pytest.fixture
def recorded(tmp_path) -> Path:
    """A real run's summary.json (recorded, cut to 6 cells) in a results folder with its
    cells' logs; pointed at this checkout, where the run's patch files are."""
    shutil.copytree(FIX / "run", tmp_path / "run")
    path = tmp_path / "run" / "summary.json"
    summary = json.loads(path.read_text())
    summary["inputs"]["config_file"] = str(ROOT / "configs" / "harness.yaml")
    path.write_text(json.dumps(summary))
    return tmp_path / "run"


def test_recorded_run_exports_and_validates(recorded):
    data = kcidb.export_kcidb(recorded)
    schema.V5_3.validate_exactly(data)
    summary = json.loads((recorded / "summary.json").read_text())
    assert len(data["checkouts"]) == len({b["variant"] for b in summary["builds"]})
    assert len(data["builds"]) == len(summary["builds"])
    cells = summary["cells"]
    n_subtests = sum(len(s.get("subtests", [])) for c in cells for s in c.get("steps", []))
    assert n_subtests > 0
    assert len(data["tests"]) == len(cells) + n_subtests
    # each variant's checkout carries its series' patchset hash
    by_id = {c["id"]: c for c in data["checkouts"]}
    for b in summary["builds"]:
        co = by_id[f"harness:{summary['run_id']}:{b['variant']}"]
        assert co["patchset_hash"] == kcidb.patchset_hash([p["sha256"] for p in b["patches"]])
    # a crash is an issue, and an incident of its cell
    reports = [(c, r) for c in cells for r in c.get("reports", [])]
    assert reports, "the recorded run must contain a crash"
    assert len(data["incidents"]) == len(reports)
    assert {i["id"] for i in data["issues"]} == {f"harness:report-{r['signature']}" for _, r in reports}
    crash_cell, _ = reports[0]
    test = next(t for t in data["tests"] if t["id"].endswith(":" + crash_cell["id"]))
    assert test["status"] == "FAIL" and test["misc"]["as_expected"] == crash_cell["passed"]
    # subtests: status from the result, path from the name
    st = next(t for t in data["tests"] if t.get("misc", {}).get("subtest"))
    assert st["path"].count(".") >= 2 and st["status"] in ("PASS", "FAIL", "SKIP")
    # logs of the cells
    assert test["log_url"].startswith("file://") and test["log_url"].endswith("/console.log")
    assert any(f["name"] == "kernel.log" for f in test["output_files"])


def test_patch_files_and_published_build_files(recorded):
    summary = json.loads((recorded / "summary.json").read_text())
    pub = recorded / "builds" / "inline-lock-debug"
    pub.mkdir(parents=True)
    (pub / "build.log").write_text("make ...\n")
    (pub / "config").write_text("CONFIG_KASAN=y\n")
    data = kcidb.export_kcidb(recorded)
    b = next(x for x in data["builds"] if x["id"].endswith(":inline-lock.debug"))
    assert b["log_url"] == (pub / "build.log").resolve().as_uri()
    assert b["config_url"] == (pub / "config").resolve().as_uri()
    co = next(x for x in data["checkouts"] if x["id"].endswith(":inline-lock"))
    want = [p["file"] for p in next(x for x in summary["builds"] if x["variant"] == "inline-lock")["patches"]]
    assert [f["name"] for f in co["patchset_files"]] == want and want
    base = next(x for x in data["checkouts"] if x["id"].endswith(":baseline"))
    assert base["patchset_hash"] == "" and "patchset_files" not in base


def test_subtest_statuses_and_paths(recorded):
    data = kcidb.export_kcidb(recorded)
    subs = [t for t in data["tests"] if t.get("misc", {}).get("subtest")]
    for t in subs:
        want = {"pass": "PASS", "skip": "SKIP"}.get(t["misc"]["result"], "FAIL")
        assert t["status"] == want
        assert schema.V5_3.path_re.match(t["path"]), t["path"]
    assert {t["status"] for t in subs} == {"PASS", "SKIP"}       # udmabuf's huge-page test skipped
    assert len({t["id"] for t in data["tests"]}) == len(data["tests"])
    cells = {t["misc"]["cell"]: t for t in data["tests"] if "cell" in t.get("misc", {})}
    assert cells["baseline.debug.stash-inline-drop-after-unload"]["status"] == "SKIP"      # n/a
    assert cells["inline-lock.debug.stash-signaled-drop-after-unload"]["status"] == "PASS"  # clean


def test_base_url_publishes_only_files_under_the_results(recorded):
    data = kcidb.export_kcidb(recorded, base_url="https://ci.example/artifacts/run-1/")
    urls = [t["log_url"] for t in data["tests"] if "log_url" in t]
    assert urls and all(u.startswith("https://ci.example/artifacts/run-1/cells/") for u in urls)
    for co in data["checkouts"]:
        assert "patchset_files" not in co      # the patches are not in the results folder
    schema.V5_3.validate_exactly(data)


def test_bad_input(tmp_path, recorded):
    with pytest.raises(InputError, match="summary.json: no such file"):
        kcidb.export_kcidb(tmp_path / "nothing")
    with pytest.raises(InputError, match="origin"):
        kcidb.export_kcidb(recorded, origin="Bad Origin")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/summary.json").write_text("{\n  \"run_id\": \n")
    with pytest.raises(InputError, match=r"summary.json:3: not valid JSON"):
        kcidb.export_kcidb(tmp_path / "bad")


def test_invalid_data_is_refused():
    data = {"version": {"major": 5, "minor": 3},
            "tests": [{"id": "harness:x", "build_id": "harness:b", "origin": "harness", "path": "a b"}]}
    with pytest.raises(HarnessError, match="tests/0/path"):
        kcidb.validate(data)


def test_cli_writes_a_valid_file(recorded, tmp_path):
    out = tmp_path / "kcidb.json"
    proc = subprocess.run([sys.executable, "-m", "harness", "export", "kcidb", str(recorded), "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr and "tests" in proc.stderr
    schema.V5_3.validate_exactly(json.loads(out.read_text()))
    bad = subprocess.run([sys.executable, "-m", "harness", "export", "kcidb", str(tmp_path / "none")],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "summary.json: no such file" in bad.stderr
