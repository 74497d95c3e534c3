"""The upstream kselftests of the fence/dma-buf surface, run in the guest.

`COLLECTIONS` are the tools/testing/selftests folders the build stage builds
from each variant's own tree (statically, against that variant's
headers_install) and the initramfs installs under `GUEST_DIR`. The guest
script `ksft-run COLLECTION PROGRAM` runs one program and prints what
kselftest's runner.sh prints: a one-test TAP document whose result carries
the program's exit status, with the program's own KTAP nested under `# `.

Parsers (a step's `parse:`):
  kselftest          per-subtest results; a step where every subtest skipped fails
  kselftest-skip-ok  the same, but a step where every subtest skipped passes
"""

from __future__ import annotations

from harness.suites.base import ParsedStep, StepParser, Suite
from harness.suites.kselftest import ktap
from harness.suites.kselftest.judge import judge, subtest_name

# tools/testing/selftests/<collection>: built for every variant, in this order
COLLECTIONS = ("sync", "drivers/dma-buf", "dmabuf-heaps")
SELFTESTS_DIR = "tools/testing/selftests"
GUEST_DIR = "/usr/lib/kselftests"


def parse_kselftest(output: str, klog: list[str]) -> ParsedStep:
    return judge(ktap.parse(output))


def parse_kselftest_skip_ok(output: str, klog: list[str]) -> ParsedStep:
    return judge(ktap.parse(output), allow_all_skipped=True)


def where_hung(lines: list[str]) -> str | None:
    """On a timeout: the subtest after the last result the console shows."""
    docs = ktap.parse(lines)
    if not docs:
        return None
    doc = docs[-1]
    while doc.unfinished is not None:     # the nested run still going when it hung
        doc = doc.unfinished
    n = len(doc.results) + 1
    plan = f" of {doc.plan}" if doc.plan is not None else ""
    after = f", after '{subtest_name(doc.results[-1])}'" if doc.results else ", before any result"
    return f"#{n}{plan}{after}"


SUITE = Suite(
    name="kselftest",
    parsers=(StepParser("kselftest", parse_kselftest, where_hung),
             StepParser("kselftest-skip-ok", parse_kselftest_skip_ok, where_hung)),
)
