"""Run: the matrix and its selection, the runner (builds, canary, guests, cells),
the judge, sessions, repro and bisection."""
