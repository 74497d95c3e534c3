"""harness gate on a 3-patch series that touches one .c file, warm caches.

"Warm" as a developer's second gate on the same base finds them: the base is
built and its results are cached (a first gate of the series is run to get
there), ccache is full; the series' own builds are removed so they are paid
for as a new series would pay them (the series build, then the prefix builds
of the bisection, each started from the series' objects).

Prints the wall time and its split: builds (series + prefixes), base (0 when
reused), the series run, the bisection (prefix builds + prefix runs), and the
verdict.

    .venv/bin/python benchmarks/bench_gate.py [--series PATH] [-k EXPR] [--on VARIANT]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.core.config import cache_root  # noqa: E402
from harness.intake.read import read_series_args  # noqa: E402

SERIES = ROOT / "tests/fixtures/series/fence-signal-twice.mbox"


def gate(args: list[str], results: Path) -> tuple[float, int]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness", "gate", *args, "--results", str(results)],
                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", default=str(SERIES))
    ap.add_argument("-k", action="append", default=[], help="narrow the scenarios (default: all of the "
                                                            "default matrix's)")
    ap.add_argument("--on", default="baseline")
    ap.add_argument("--checks", default="runtime", help="the gate's --checks (default: runtime, the "
                                                         "differential runs and bisection; 'all' for every answer)")
    a = ap.parse_args()
    series = read_series_args([a.series])
    args = [a.series, "--on", a.on] + [x for k in a.k for x in ("-k", k)]
    if a.checks != "all":
        args += ["--checks", a.checks]
    tmp = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    try:
        t, status = gate(args, tmp / "warm-up")
        print(f"warm-up gate (builds the base if needed, caches its results): {t:.0f} s, exit {status}")
        # the series' builds go: a new series pays for them
        for d in (cache_root() / "builds").glob(f"{a.on}+*"):
            build = json.loads((d / "build.json").read_text()) if (d / "build.json").exists() else {}
            if any(p.get("sha256") in {q.sha256 for q in series.patches} for p in build.get("patches", [])):
                shutil.rmtree(d)
        t, status = gate(args, tmp / "measured")
        g = json.loads((tmp / "measured" / "latest" / "gate.json").read_text())
        tm = g.get("timings", {})
        print(f"gate of {len(series.patches)} patches on {a.on}, {len(g['cells'])} cells: {t:.0f} s, exit {status}")
        print(f"  builds (series + prefixes): {tm.get('builds_s', 0):.0f} s")
        print(f"  base run: {tm.get('base_s', 0):.0f} s ({'reused' if g.get('base_cached') else 'run'})")
        print(f"  series run: {tm.get('series_s', 0):.0f} s")
        print(f"  bisection (prefix builds and runs): {tm.get('bisect_s', 0):.0f} s")
        if "checks_s" in tm:
            print(f"  per-patch static checks: {tm['checks_s']:.0f} s")
        for c in g["cells"]:
            if c["fails_gate"]:
                print(f"  regression {c['profile']}/{c['scenario']}: first bad patch {c['culprit']}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
