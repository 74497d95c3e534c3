"""Benchmark of the crash detector: throughput and memory on a big console log.

Writes a realistic console log (boot and runtime noise, kernel timestamps,
harness step markers, a few crash reports sprinkled in) of at least
``--size-mb`` MB to a temporary file, scans it with ``harness.detect.scan_file``
(streaming, in a fresh interpreter per run) and prints the median MB/s (of
wall time, and of CPU time, steadier on a shared machine) and the peak RSS.  Targets (issue 4): >= 50 MB/s on one core, memory independent
of the log size.  ``--compare ROOT`` scans the same log with another
checkout too, runs alternating, so that before/after figures are measured
side by side on this (shared, noisy) machine.

    python3 benchmarks/bench_scan.py [--size-mb 200] [--repeat 3] [--compare ../arch] [--keep PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NOISE = [
    "ACPI: PCI Interrupt Link [LNKA] enabled at IRQ 11",
    "pci 0000:00:01.1: reg 0x20: [io  0xc040-0xc04f]",
    "usb 1-1: new high-speed USB device number 2 using ehci-pci",
    "EXT4-fs (vda): mounted filesystem 4f1c2a5e-0000-4000-8000-7d7c1e3f9a10 r/w with ordered data mode.",
    "systemd[1]: Started systemd-journald.service - Journal Service.",
    "audit: type=1400 audit(1700000000.123:45): apparmor=\"STATUS\" operation=\"profile_load\" name=\"lsb_release\"",
    "virtio_net virtio0 enp0s3: renamed from eth0",
    "random: crng init done",
    "NET: Registered PF_INET6 protocol family",
    "Freeing unused kernel image (initmem) memory: 2948K",
    "clocksource: Switched to clocksource tsc",
    "sd 0:0:0:0: [sda] 41943040 512-byte logical blocks: (21.5 GB/20.0 GiB)",
    "e1000: enp0s3 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX",
    "issuer: loading out-of-tree module taints kernel.",
    "holder: took a reference on fence 0000000012ab34cd",
    "dma-fence selftest: ok 12 test_signaling",
    "kvm: already loaded vendor module 'kvm_intel'",
    "Spectre V2 : Mitigation: Retpolines",
    "CPU: Physical Processor ID: 0",
    "VFS: Mounted root (ext4 filesystem) readonly on device 254:0.",
]

REPORT = (Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "scan" / "dma_fence_pf_6.12.log")


def noise_block(rng: random.Random, t0: float, lines: int) -> tuple[str, float]:
    out = []
    t = t0
    for i in range(lines):
        t += rng.random() * 0.002
        if i % 5000 == 0:
            out.append(f"HARNESS-STEP: step-{int(t)}")
        ctx = f"[{rng.randrange(1, 400):>6}]" if i % 3 == 0 else ""
        out.append(f"[{t:12.6f}]{('[ T' + ctx[2:]) if ctx else ''} {rng.choice(NOISE)}")
    return "\n".join(out) + "\n", t


def write_log(path: Path, size_mb: int, reports: int) -> tuple[int, int]:
    rng = random.Random(4)
    crash = "".join(ln.split("] ", 1)[1] + "\n" if ln.startswith("[") else "" for ln in
                    REPORT.read_text().splitlines()[13:])
    target = size_mb * 1_000_000
    blocks = []
    t = 1.0
    for _ in range(8):  # a few distinct ~1 MB blocks, reused
        b, t = noise_block(rng, t, 10_000)
        blocks.append(b.encode())
    every = max(1, target // max(1, reports))
    written = next_report = count = 0
    with open(path, "wb") as f:
        i = 0
        while written < target:
            b = blocks[i % len(blocks)]
            f.write(b)
            written += len(b)
            i += 1
            if written >= next_report + every:
                next_report = written
                stamped = "".join(f"[{t:12.6f}] {ln}\n" for ln in crash.splitlines())
                f.write(stamped.encode())
                written += len(stamped)
                count += 1
    return written, count


CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from harness.detect import scan_file
t0, c0 = time.perf_counter(), time.process_time()
reports = scan_file(sys.argv[2])
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": dt, "cpu_seconds": cpu, "reports": len(reports),
                  "titles": sorted({r.title for r in reports}),
                  "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run_child(root: Path, log: Path) -> dict:
    """Scan in a fresh interpreter: time without imports, peak RSS of the scan."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(root), str(log)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--reports", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3, help="scans per implementation (median reported)")
    ap.add_argument("--compare", metavar="ROOT",
                    help="another checkout of the harness: scan the same log with it too, "
                         "alternating runs, and print both medians side by side")
    ap.add_argument("--keep", metavar="PATH", help="write the log here and keep it")
    args = ap.parse_args()
    tmpdir = None
    if args.keep:
        path = Path(args.keep)
    else:
        tmpdir = tempfile.TemporaryDirectory(prefix="bench_scan_")
        path = Path(tmpdir.name) / "console.log"
    t0 = time.perf_counter()
    size, planted = write_log(path, args.size_mb, args.reports)
    gen = time.perf_counter() - t0
    mb = size / 1e6
    print(f"log: {mb:.1f} MB ({path}), generated in {gen:.1f} s, {planted} reports planted")
    roots = {"this tree": ROOT}
    if args.compare:
        roots[f"compare ({args.compare})"] = Path(args.compare).resolve()
    runs: dict[str, list[dict]] = {name: [] for name in roots}
    for _ in range(args.repeat):
        for name, root in roots.items():  # alternate, so load on the machine hits both alike
            runs[name].append(run_child(root, path))
    ok = True
    for name, rs in runs.items():
        secs = statistics.median(r["seconds"] for r in rs)
        cpu = statistics.median(r["cpu_seconds"] for r in rs)
        rss = max(r["rss_kib"] for r in rs) / 1024
        each = ", ".join(f"{mb / r['seconds']:.0f}" for r in rs)
        print(f"{name}: median {secs:.2f} s = {mb / secs:.1f} MB/s wall, {mb / cpu:.1f} MB/s of CPU time, "
              f"over {len(rs)} runs ({each} MB/s wall); peak RSS {rss:.1f} MiB; "
              f"{rs[0]['reports']} reports: {rs[0]['titles']}")
    mine = runs["this tree"]
    ok = mb / statistics.median(r["seconds"] for r in mine) >= 50 and mine[0]["reports"] == planted
    if tmpdir is not None:
        tmpdir.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
