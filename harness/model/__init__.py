"""Data types that cross stage boundaries (a cell's result, its reports and steps)
and the pure functions over them (comparison of two runs)."""
