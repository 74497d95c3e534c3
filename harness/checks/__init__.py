"""Per-patch static checks of a series, as the kernel test robot does them.

For every patch k of a series: the kernel and the guest modules build at
prefix k (`build`); the objects the patch touches compile with W=1 without
new gcc warnings (`warnings`) and pass sparse without new warnings
(`sparse`), both compared with prefix k-1; the tree's checkpatch.pl
--strict on the patch (`checkpatch`). Entry point: `check_series()`.
"""

from harness.checks.model import (ALL_CHECKS, CheckName, CheckResult, Finding, PatchChecks, SeriesChecks,
                                  Severity, Status, Unchecked)
from harness.checks.series import check_series

__all__ = ["ALL_CHECKS", "CheckName", "CheckResult", "Finding", "PatchChecks", "SeriesChecks", "Severity",
           "Status", "Unchecked", "check_series"]
