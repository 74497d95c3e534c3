"""A cell's outcome: what happened when its scenario ran, before any judging."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    CLEAN = "clean"                 # every step as expected, no kernel report
    REPORT = "report"               # the kernel reported (oops, WARN, KASAN, lockdep, ...)
    CHECK_FAILED = "check-failed"   # a step's exit status or a parsed subtest said no
    HANG = "hang"                   # a step overran its budget; the guest was killed
    PANIC = "panic"                 # the kernel panicked (or the guest reset)
    NO_BOOT = "no-boot"             # the guest never reached its shell
    ERROR = "error"                 # the harness could not run the cell (build, blind kernel, QEMU)
    NA = "n/a"                      # the build lacks a feature the scenario requires

    @classmethod
    def parse(cls, value) -> "Outcome":
        """The outcome named by value; an unknown name reads as an error, never as clean."""
        try:
            return cls(value)
        except ValueError:
            return cls.ERROR


# outcomes in which the guest died
DEATHS = frozenset({Outcome.HANG, Outcome.PANIC, Outcome.NO_BOOT})
OUTCOMES = tuple(o.value for o in Outcome)
