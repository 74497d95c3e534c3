"""CLI start-up: `harness list` and `harness config check`, median of N runs.

Every command pays the start-up (imports, loading the YAML files), so it is
measured on its own. With `--against REV` the same commands run from a
temporary worktree of REV side by side, in one run, alternating, so the
machine's load hits both alike.

    .venv/bin/python benchmarks/bench_cli.py [-n 9] [--against 338c054]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (["list"], ["config", "check"])


def once(tree: Path, args: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree), HARNESS_ROOT=str(tree))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness", *args], cwd=tree, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"harness {' '.join(args)} failed in {tree}: {proc.stderr.strip()}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=9, help="runs per command (default 9)")
    ap.add_argument("--against", metavar="REV", help="also time this git revision, side by side")
    a = ap.parse_args()
    trees = {"this tree": ROOT}
    tmp = None
    if a.against:
        tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tmp / "t"), a.against],
                       check=True)
        trees[a.against] = tmp / "t"
    try:
        for args in COMMANDS:
            times = {k: [] for k in trees}
            for t in trees.values():           # warm the bytecode caches
                once(t, args)
            for _ in range(a.n):
                for k, t in trees.items():
                    times[k].append(once(t, args))
            med = {k: statistics.median(v) for k, v in times.items()}
            line = ", ".join(f"{k}: median {m:.3f} s (min {min(times[k]):.3f})" for k, m in med.items())
            ratio = ""
            if a.against:
                ratio = f"; {a.against}/this = {med[a.against] / med['this tree']:.1f}x"
            print(f"harness {' '.join(args):<13} {line}{ratio}")
    finally:
        if tmp:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "t")], check=False)
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
