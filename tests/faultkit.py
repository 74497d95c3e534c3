"""Helpers for the tests that run the real harness under faults: a project of
their own scenarios, a fresh cache, the harness as a subprocess, and waiting
for a state (never for a duration)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from harness.core.config import cache_root

ROOT = Path(__file__).resolve().parent.parent

# a step that runs until the harness kills it; the test waits for its marker
BLOCK = "sleep 100000"

# Two quick cells, and the scenarios for a run with a step that never ends by itself.
QUICK = """\
scenarios:
  - name: quick-a
    steps:
      - {name: ok, run: "true"}
  - name: quick-b
    steps:
      - {name: ok, run: "echo hello"}
"""
QUICK_AND_BLOCKER = QUICK + f"""\
  - name: blocker
    timeout_s: 100000
    steps:
      - {{name: block-here, run: "{BLOCK}", timeout_s: 100000}}
    expect: {{default: {{outcome: hang, reason: never ends by itself}}}}
"""


def make_project(tmp: Path, scenarios: str, variants=("baseline",), guest: dict | None = None,
                 features: dict | None = None) -> Path:
    """A config using the checkout's sources, series and kconfig, with these
    scenarios (YAML text) and a matrix of every scenario on `variants`."""
    conf = yaml.safe_load((ROOT / "configs/harness.yaml").read_text())
    conf.update(series_dir=str(ROOT / "kernel-patches"), kconfig_dir=str(ROOT / "configs/kconfig"),
                scenarios_dir=str(tmp / "scen"), matrix=str(tmp / "m.yaml"))
    if guest:
        conf.setdefault("guest", {}).update(guest)
    for name, feats in (features or {}).items():
        conf["variants"][name]["features"] = feats
    (tmp / "scen").mkdir(parents=True, exist_ok=True)
    (tmp / "scen/s.yaml").write_text(scenarios)
    (tmp / "m.yaml").write_text(f"variants: {json.dumps(list(variants))}\nprofiles: [debug]\n"
                                "scenarios: ['*']\n")
    path = tmp / "h.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


def env(cache: Path | None = None, **extra) -> dict:
    e = dict(os.environ, **{k: str(v) for k, v in extra.items()})
    if cache is not None:
        e["HARNESS_CACHE"] = str(cache)
    return e


def fresh_cache(tmp: Path) -> Path:
    """An empty cache that shares ccache and the unpacked sources with the usual one:
    builds happen for real (from ccache), without touching the usual builds."""
    cache = tmp / "cache"
    cache.mkdir()
    for shared in ("ccache", "src"):
        (cache / shared).symlink_to((cache_root() / shared).resolve())
    return cache


def run(*args, env=None, timeout=1800, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def _sigint_as_on_a_terminal() -> None:
    """Ctrl-C's default disposition in the child. A shell that starts a job in
    the background without job control (`make test &`, `nohup … &`) makes it
    ignore SIGINT, and Python then installs no KeyboardInterrupt handler: the
    Ctrl-C tests would test nothing but that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Started:
    """A harness started in the background; its output goes to files (no pipe to fill)."""

    def __init__(self, tmp: Path, name: str, *args, env=None):
        self.out, self.err = tmp / f"{name}.out", tmp / f"{name}.err"
        with open(self.out, "w") as o, open(self.err, "w") as e:
            self.proc = subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=ROOT,
                                         stdout=o, stderr=e, env=env, preexec_fn=_sigint_as_on_a_terminal)
        self.pid = self.proc.pid

    def wait(self, timeout=1800) -> int:
        """Its exit status; past `timeout` (a hung harness, not a slow one: the
        tests wait for states first), it is stopped as a CI runner stops a job,
        so that its guests do not outlive the test, and the test fails."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            raise

    @property
    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    @property
    def stdout(self) -> str:
        return self.out.read_text(errors="replace")


def wait_until(state, what: str, timeout: float = 900, alive: Started | None = None):
    """Poll `state()` until it is truthy; fail the test if `alive` exits first or at the
    deadline (which only bounds a hang: the test waits for the state, not a time)."""
    deadline = time.monotonic() + timeout
    while True:
        value = state()
        if value:
            return value
        if alive is not None and alive.proc.poll() is not None:
            raise AssertionError(f"harness exited ({alive.proc.returncode}) before {what}:\n"
                                 + alive.stderr[-3000:])
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def step_running(results_root: Path, step: str) -> bool:
    """Has a guest of this run started this step? (its marker is on the console)"""
    marker = f"HARNESS-STEP: {step}"
    for log in results_root.glob("*/boots/*/console.log"):
        try:
            if marker in log.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def summary(results_root: Path) -> dict:
    return json.loads((results_root / "latest/summary.json").read_text())


def cells(results_root: Path) -> dict:
    return {c["scenario"]: c for c in summary(results_root)["cells"]}
