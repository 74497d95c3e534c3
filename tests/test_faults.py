"""The gate under faults, with real builds and guests (issue 16):

- QEMU SIGKILLed from outside mid-cell: that cell is a reset, the run goes on;
- Ctrl-C during a kernel build: the interrupted build is never taken as done;
- two `harness run` at once on one cache: one builds, the other waits on the
  build lock and then uses that build (no rebuild under the first one's feet);
- a guest flooding its console for a step's whole budget: bounded memory, the
  cell ends with its report;
- a full disk under the results folder: one clear line, exit 3, no summary.json
  that says complete.

Each waits for a state (a step's marker on the console, make compiling,
processes queued on the lock), never for a duration.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests import faultkit as fk
from tests.conftest import qemu_pids

pytestmark = pytest.mark.slow

QUICK = fk.QUICK


# -- QEMU killed from outside -------------------------------------------------------

KILLED = fk.QUICK_AND_BLOCKER


def test_qemu_sigkilled_mid_cell_is_that_cells_reset(tmp_path):
    conf = fk.make_project(tmp_path, KILLED)
    results = tmp_path / "r"
    # one worker, longest cell first: the blocker runs first, the quick cells after it
    run = fk.Started(tmp_path, "run", "run", "--config", str(conf), "--results", str(results),
                     "--no-canary", "-j", "1")
    fk.wait_until(lambda: fk.step_running(results, "block-here"), "the blocking step", alive=run)
    pids = qemu_pids()
    assert len(pids) == 1, pids
    os.kill(pids.pop(), signal.SIGKILL)
    rc = run.wait()
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    cells = fk.cells(results)
    killed = cells["blocker"]
    assert not killed["passed"] and "QEMU exited during step 'block-here'" in killed["detail"], killed
    assert killed["steps"][-1]["note"].startswith("QEMU exited")
    assert cells["quick-a"]["passed"] and cells["quick-b"]["passed"], cells   # the run went on
    assert fk.summary(results)["complete"] is True
    assert rc == 1, run.stderr[-2000:]


# -- builds: Ctrl-C, then two runs at once ---------------------------------------------

@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A cache of its own (ccache and sources shared): these tests build for real."""
    tmp = tmp_path_factory.mktemp("fresh")
    return fk.fresh_cache(tmp)


def build_dir(cache: Path) -> Path:
    return cache / "builds/baseline-debug"


def compiled(cache: Path) -> int:
    log = build_dir(cache) / "build.log"
    try:
        return len(re.findall(r"(?m)^\s+CC\s", log.read_text(errors="replace")))
    except OSError:
        return 0


def processes_using(path: Path) -> list[str]:
    """Command lines of live processes that name `path` (make, gcc of a build there)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(path) in cmd and "pytest" not in cmd:
                out.append(f"{d.name}: {cmd[:200]}")
    return out


def test_ctrl_c_during_the_build_is_not_taken_as_done(tmp_path, fresh):
    conf = fk.make_project(tmp_path, QUICK)
    first = fk.Started(tmp_path, "first", "run", "--config", str(conf), "--results", str(tmp_path / "r1"),
                       "--no-canary", env=fk.env(fresh))
    fk.wait_until(lambda: compiled(fresh) >= 20, "make to be compiling", alive=first, timeout=1800)
    first.proc.send_signal(signal.SIGINT)
    assert first.wait(timeout=300) == 130, first.stderr[-2000:]
    assert not (build_dir(fresh) / "build.json").exists(), "an interrupted build looks finished"
    fk.wait_until(lambda: not processes_using(build_dir(fresh)), "make and gcc to be gone", timeout=60)
    again = fk.run("run", "--config", str(conf), "--results", str(tmp_path / "r2"), "--no-canary",
                   env=fk.env(fresh))
    assert again.returncode == 0, again.stderr[-3000:]
    s = fk.summary(tmp_path / "r2")
    assert s["builds"][0]["built"] is True and not s["builds"][0]["error"], s["builds"][0]
    assert all(c["passed"] for c in s["cells"])


def source_lock(cache: Path) -> Path:
    repo = next(p for p in (cache / "src").iterdir() if p.is_dir() and p.name.startswith("debian-"))
    return repo.parent / f".{repo.name}.lock"


def waiting_on(lock: Path, pids: set[int]) -> set[int]:
    """Which of `pids` are queued on the flock of `lock` (from /proc/locks)."""
    ino = os.stat(lock).st_ino
    out = set()
    for line in Path("/proc/locks").read_text().splitlines():
        f = line.split()
        if "->" in f and f[f.index("->") + 1] == "FLOCK":
            i = f.index("->")
            pid, dev = int(f[i + 4]), f[i + 5]
            if pid in pids and dev.rsplit(":", 1)[-1] == str(ino):
                out.add(pid)
    return out


def test_two_runs_on_one_cache_one_builds_the_other_waits(tmp_path, fresh):
    # whatever the cache holds, this key is to be built: the build.json goes
    (build_dir(fresh) / "build.json").unlink(missing_ok=True)
    conf = fk.make_project(tmp_path, QUICK)
    lock = source_lock(fresh)
    with open(lock, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)        # both runs must queue behind it: a real overlap
        runs = [fk.Started(tmp_path, name, "run", "--config", str(conf), "--results", str(tmp_path / name),
                           "--no-canary", "-j", "1", env=fk.env(fresh)) for name in ("a", "b")]
        pids = {r.pid for r in runs}
        fk.wait_until(lambda: waiting_on(lock, pids) == pids, "both runs to queue on the build lock",
                      timeout=600)
        fcntl.flock(held, fcntl.LOCK_UN)
    rcs = [r.wait() for r in runs]
    assert rcs == [0, 0], [r.stderr[-2000:] for r in runs]
    sums = [fk.summary(tmp_path / name) for name in ("a", "b")]
    built = sorted(s["builds"][0]["built"] for s in sums)
    assert built == [False, True], "exactly one run built; the other used its build"
    assert sums[0]["builds"][0]["key"] == sums[1]["builds"][0]["key"]
    for s in sums:
        assert s["complete"] and all(c["passed"] for c in s["cells"]), s["cells"]


# -- a console flood ---------------------------------------------------------------

FLOODER = ("i=0; while [ $i -lt 400 ]; do echo flood-before-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; "
           "i=$((i+1)); done; modprobe lkdtm; echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT; "
           "while :; do echo flood-after-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
FLOOD = f"""\
scenarios:
  - name: flood
    timeout_s: 40
    steps:
      - {{name: flood, run: "{FLOODER}", timeout_s: 30}}
    expect: {{default: {{outcome: report, kind: WARNING, title: lkdtm_WARNING, step: flood,
                         reason: the report survives the flood around it}}}}
"""


def test_console_flood_keeps_memory_bounded_and_the_report(tmp_path):
    """Under TCG the serial console carries ~18 KB/s, so the step's 30 s are
    ~0.5 MB: a 64 KiB budget makes the harness drop most of it. The WARNING in
    the middle of the flood must stay, and the cell end with it."""
    conf = fk.make_project(tmp_path, FLOOD)
    proc = fk.run("run", "--config", str(conf), "--results", str(tmp_path / "r"), "--no-canary",
                  env=fk.env(HARNESS_CONSOLE_BUDGET=65536))
    cell = fk.cells(tmp_path / "r")["flood"]
    assert cell["outcome"] == "report" and cell["passed"], (cell["outcome"], cell["why"])
    assert "lkdtm_WARNING" in cell["reports"][0]["title"] and cell["reports"][0]["step"] == "flood"
    console = (tmp_path / "r/latest" / cell["dir"] / "console.log").read_text()
    dropped = [int(m) for m in re.findall(r"harness: (\d+) console lines not kept in memory", console)]
    assert dropped and sum(dropped) > 0, "the flood was not bounded"
    assert proc.returncode == 0, proc.stderr[-2000:]
    rss = fk.summary(tmp_path / "r")["harness_peak_rss_mb"]
    print(f"flood: {sum(dropped)} console lines dropped, harness peak RSS {rss} MB")
    assert rss < 200


# -- a full disk under the results ---------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "full"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_under_the_results_is_a_clear_exit_3(tmp_path, small_disk):
    conf = fk.make_project(tmp_path, QUICK + """\
  - name: quick-c
    steps:
      - {name: ok, run: "seq 1 2000"}
""")
    results = small_disk / "r"
    proc = fk.run("run", "--config", str(conf), "--results", str(results), "--no-canary", "-j", "1")
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "No space left on device" in err[-1] and "could not be written" in err[-1], err[-1]
    summary = results / "latest/summary.json"
    if summary.exists():                     # whatever is there is whole and says incomplete
        s = json.loads(summary.read_text())
        assert s["complete"] is False and s.get("exit_status") is None
    assert not list(results.rglob(".summary.json.*")), "a temp file was left"
