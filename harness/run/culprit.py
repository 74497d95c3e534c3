"""Which patch of a series brought each regression: a bisection over the
series' prefixes, done for every regressed cell at once.

Prefix 0 is the base (no regression) and prefix n the whole series (the
regression); like `git bisect`, the search assumes one change point per cell.
All cells that need the same prefix are run on it together, so a series with
several regressions pays each prefix build once.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable


def find_culprits(n: int, cells: list[str],
                  regresses: Callable[[int, list[str]], dict[str, bool]]) -> dict[str, int]:
    """For each cell, the smallest k in 1..n whose prefix regresses.

    `regresses(k, cells)` runs prefix k (1 <= k < n) for those cells and says,
    per cell, whether it regressed there.
    """
    lo = {c: 0 for c in cells}      # a prefix known not to regress
    hi = {c: n for c in cells}      # a prefix known to regress
    while True:
        pending = [c for c in cells if hi[c] - lo[c] > 1]
        if not pending:
            return hi
        # the midpoint most cells wait for; every pending cell whose interval holds it comes along
        k = Counter((lo[c] + hi[c]) // 2 for c in pending).most_common(1)[0][0]
        who = [c for c in pending if lo[c] < k < hi[c]]
        verdict = regresses(k, who)
        for c in who:
            if verdict[c]:
                hi[c] = k
            else:
                lo[c] = k
