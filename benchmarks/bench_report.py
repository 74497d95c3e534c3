"""Benchmark of the static results page (issue 9) on a synthetic 500-cell run.

Writes a synthetic results folder (10 variants x 50 scenarios, with expected
and unexpected crashes, hangs, check failures, n/a, flaky and error cells and
a console log per cell), times ``write_report`` and then the page load in
headless Chromium (``performance.now()`` at the end of the page's script and
at the load event, i.e. since navigation start, as the page records them).
Target: load <= 1 s.

    python3 benchmarks/bench_report.py [--variants 10] [--scenarios 50] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.output.html import write_report  # noqa: E402
from tests.test_report import big_layout, make_results  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def chromium_load(url: str) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory(prefix="bench-chromium-") as prof:
        t0 = time.perf_counter()
        p = subprocess.run([shutil.which("chromium"), *FLAGS, f"--user-data-dir={prof}", "--dump-dom", url],
                           capture_output=True, text=True, timeout=120, env={"HOME": prof, "PATH": "/usr/bin:/bin"})
        wall = time.perf_counter() - t0
    m = re.search(r'data-render-ms="([\d.]+)"', p.stdout)
    m2 = re.search(r'data-load-ms="([\d.]+)"', p.stdout)
    if not m:
        raise SystemExit(f"chromium did not render the page: {p.stderr[-1500:]}")
    return float(m.group(1)), float(m2.group(1)) if m2 else float("nan"), wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", type=int, default=10)
    ap.add_argument("--scenarios", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", metavar="DIR", help="write the synthetic results here and keep them")
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        layout = big_layout(args.variants, args.scenarios)
        t0 = time.perf_counter()
        d = make_results(tmp, "bench", layout)
        print(f"synthetic run: {len(layout)} cells in {d} ({time.perf_counter() - t0:.1f} s to generate)")
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            page = write_report(d)
            times.append(time.perf_counter() - t0)
        print(f"write index.html: median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms "
              f"over {args.runs} runs; page {page.stat().st_size / 1e6:.2f} MB")
        if not shutil.which("chromium"):
            print("chromium not installed: page load not measured")
            return 0
        chromium_load(page.as_uri())    # warm-up
        runs = [chromium_load(page.as_uri()) for _ in range(args.runs)]
        render = [r[0] for r in runs]
        load = [r[1] for r in runs]
        wall = [r[2] for r in runs]
        print(f"chromium page load ({args.runs} runs, ms since navigation start): "
              f"rendered median {statistics.median(render):.0f} (best {min(render):.0f}), "
              f"load event median {statistics.median(load):.0f} (best {min(load):.0f}); "
              f"whole chromium process {statistics.median(wall):.1f} s incl. start-up")
        ok = statistics.median(load) <= 1000
        print("target load <= 1000 ms:", "OK" if ok else "MISSED")
        return 0 if ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
