#!/usr/bin/env python3
"""Guest figures: boot to first command (a cold boot, and a guest restored
from the snapshot of a booted one), run("true") round trip over serial and
SSH, and the harness's overhead (QEMU start -> prompt vs the kernel's own
"Run /init" timestamp).

    python benchmarks/bench_boot.py [--boots 5] [--rounds 50]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.vm.boot import make_guest  # noqa: E402
from harness.build.kernel import ensure_build  # noqa: E402
from harness.core.config import load_config  # noqa: E402

RUN_INIT = re.compile(r"^\[host \+(\d+\.\d+)\] \[\s*(\d+\.\d+)\] Run /init")
READY = re.compile(r"^\[host \+(\d+\.\d+)\] HARNESS-READY")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boots", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()
    cfg = load_config()
    build = ensure_build(cfg, cfg.variant(None), cfg.profile(None))
    work = Path(tempfile.mkdtemp(prefix="bench-boot-"))
    boots, kernel_init, host_init, ready = [], [], [], []
    for i in range(args.boots):
        g = make_guest(cfg.guest, build, work / f"b{i}", root=cfg.root, snapshot=False)
        t0 = time.monotonic()
        with g:
            g.run("true", timeout=30)
            boots.append(time.monotonic() - t0)
        for line in g.console_log.read_text().splitlines():
            m = RUN_INIT.match(line)
            if m:
                host_init.append(float(m.group(1)))
                kernel_init.append(float(m.group(2)))
            m = READY.match(line)
            if m:
                ready.append(float(m.group(1)))
    restores = []
    for i in range(args.boots + 1):
        g = make_guest(cfg.guest, build, work / f"r{i}", root=cfg.root, snapshot=True)
        t0 = time.monotonic()
        with g:
            g.run("true", timeout=30)
            if i or g.restored:        # the very first may be the boot that saves the snapshot
                restores.append(time.monotonic() - t0)
    print(f"accel: {g.spec.accel}; {build.variant}/{build.profile} {build.release}; "
          f"-smp {cfg.guest.smp} -m {cfg.guest.memory_mb}")
    print(f"cold boot to first command:    median {statistics.median(boots):.2f} s, min {min(boots):.2f} s "
          f"over {len(boots)} boots (target <= 3 s under TCG)")
    print(f"restore to first command:      median {statistics.median(restores):.2f} s, "
          f"min {min(restores):.2f} s over {len(restores)} (snapshot of a booted guest)")
    if kernel_init:
        print(f"kernel 'Run /init' at:         median {statistics.median(kernel_init):.2f} s kernel time, "
              f"{statistics.median(host_init):.2f} s after QEMU start (host)")
        print(f"prompt after /init:            median "
              f"{statistics.median([r - h for r, h in zip(ready, host_init)]):.3f} s (init + shell start)")
        print(f"QEMU start -> kernel clock 0:  median "
              f"{statistics.median([h - k for h, k in zip(host_init, kernel_init)]):.2f} s "
              "(firmware + kernel load, before the kernel's clock starts)")
    for transport in ("serial", "ssh"):
        g = make_guest(cfg.guest, build, work / f"rt-{transport}", root=cfg.root, transport=transport)
        # measured in a guest at rest: the first commands after a restore retranslate code
        with g:
            g.run("true")
            times = []
            for _ in range(args.rounds):
                t0 = time.monotonic()
                g.run("true", timeout=30)
                times.append(time.monotonic() - t0)
        print(f'run("true") over {transport:6}: median {1000 * statistics.median(times):.1f} ms, '
              f"p90 {1000 * sorted(times)[int(0.9 * len(times))]:.1f} ms over {len(times)} (target <= 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
