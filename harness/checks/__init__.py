"""Per-patch static checks of a series, as the kernel test robot does them.

For every patch k of a series: the kernel and the guest modules build at
prefix k (`build`); the objects the patch touches compile with W=1 without
new gcc warnings (`warnings`) and pass sparse without new warnings
(`sparse`), both compared with prefix k-1; the tree's checkpatch.pl
--strict on the patch (`checkpatch`). Entry points: `check_series()` runs
them, `judge()` says which results fail the gate, `series_text()` renders
them robot style.
"""

from harness.model.checks import (ALL_CHECKS, CheckName, CheckResult, Finding, PatchChecks, SeriesChecks,
                                  Severity, Status, Unchecked)
from harness.checks.policy import DEFAULT_FAIL_ON, Verdict, judge
from harness.checks.render import series_text
from harness.checks.series import check_series

__all__ = ["ALL_CHECKS", "DEFAULT_FAIL_ON", "CheckName", "CheckResult", "Finding", "PatchChecks", "SeriesChecks",
           "Severity", "Status", "Unchecked", "Verdict", "check_series", "judge", "series_text"]
