"""The dma-fence suite: what the harness knows of the "RCU-protected ops + inline
lock" series and of the in-kernel dma-buf selftests (dmabuf_selftests.ko)."""

from __future__ import annotations

import re

from harness.suites.base import FeatureProbe, ParsedStep, SourceReader, StepParser, Subtest, Suite

HEADER = "include/linux/dma-fence.h"


def has_inline_lock(read: SourceReader) -> bool:
    return "DMA_FENCE_FLAG_INLINE_LOCK_BIT" in (read(HEADER) or "")


def has_rcu_ops(read: SourceReader) -> bool:
    return bool(re.search(r"__rcu\s*\*\s*ops", read(HEADER) or ""))


_ST_RUN = re.compile(r"dma-buf: Running (\S+)")
_ST_FAIL = re.compile(r"dma-buf/(\S+): (\S+) failed with error (-?\d+)")


def parse_dmabuf_selftests(output: str, klog: list[str]) -> ParsedStep:
    """Per-subtest results from the kernel log of a `modprobe dmabuf_selftests` step."""
    tests: dict[str, dict] = {}
    for line in klog:
        m = _ST_RUN.search(line)
        if m and "/" in m.group(1):
            tests[m.group(1)] = {"name": m.group(1), "result": "pass"}
        m = _ST_FAIL.search(line)
        if m:
            name = f"{m.group(1)}/{m.group(2)}"
            tests.setdefault(name, {"name": name})["result"] = f"fail ({m.group(3)})"
    subtests = [Subtest(t["name"], t.get("result", "pass")) for t in tests.values()]
    failed = [t.name for t in subtests if not t.passed]
    return ParsedStep(subtests, f"selftest(s) failed: {', '.join(failed)}" if failed else None)


def last_selftest(klog: list[str]) -> str | None:
    """The selftest the kernel log says started last (where a timed-out step hung)."""
    last = None
    for line in klog:
        m = _ST_RUN.search(line)
        if m and "/" in m.group(1):
            last = m.group(1)
    return last


SUITE = Suite(
    name="dmafence",
    features=(
        FeatureProbe("inline_lock", "dma_fence has DMA_FENCE_FLAG_INLINE_LOCK_BIT (series patch 4)",
                     has_inline_lock),
        FeatureProbe("rcu_ops", "dma_fence's ops pointer is __rcu (series patch 1)", has_rcu_ops),
    ),
    parsers=(StepParser("dmabuf-selftests", parse_dmabuf_selftests, last_selftest),),
)
