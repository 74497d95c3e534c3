"""Intake: where kernel sources and patch series come from, and how a series is
vetted, stacked on a variant and applied (never touching the user's own tree).

- `source.py`: a source (Debian tarball, local tree, git URL or local repo at a
  commit) as a git repository in the cache;
- `patches.py`: configured series (`kernel-patches/<name>/series`), vetting,
  `apply_variant` (all or nothing);
- `series.py`: `Series`, a series under test with its identity, storable;
- `mbox.py`, `folder.py`, `gitrange.py`: the intakes, each returning a Series
  (`mail.py`: mbox splitting and message identity, on b4); `read.py`:
  `read_series_arg`, which picks one by what the argument is;
- `stack.py`: `variant_with_series`, a series stacked on a configured variant.
"""
