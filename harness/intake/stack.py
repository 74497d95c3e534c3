"""Stacking a series under test on a configured variant.

`variant_with_series` registers a derived variant in the configuration: the
configured variant's source and series, then the series' patch files
(`Variant.extra_patches`). Applying and building it is what every variant
gets (harness/intake/patches.py apply_variant, harness/build/kernel.py), so
the build key covers the stacked patches' content and a failure to apply
leaves the source repository at its base.

A series from a git range brings its own source: the user's tree at the
range's BASE, cloned (`--shared`, read-only for the user's repository) into
the cache as a `git` source at that commit.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from harness.core.config import NAME, GitRef, HarnessConfig, SourceSpec, Variant, cache_root
from harness.core.errors import InputError
from harness.intake.patches import read_series
from harness.intake.series import Series


def stored_series(series: Series, store: Path | None = None) -> Path:
    """The folder holding the series' files, named by its content (written once)."""
    folder = (store or cache_root() / "series") / series.key[:16]
    try:
        if Series.load(folder).key == series.key:
            return folder
    except InputError:
        pass    # not there yet, or edited since: (re)write it
    return series.write_to(folder)


def range_source(cfg: HarnessConfig, series: Series, tree: Path | None = None) -> str:
    """Register "the user's tree at BASE" as a source; returns its name.

    `tree`: another git tree that has BASE (repro on another machine, where
    the user's tree is not: any clone of the kernel with that commit).
    """
    if not series.base_commit:
        raise InputError(f"series {series.origin!r} has no base commit (not a git range)")
    where = Path(tree).expanduser().resolve() if tree else Path(series.tree or "")
    if not (where / ".git").exists():
        raise InputError(f"series {series.origin!r}: its base {series.base_commit[:12]} comes from the git "
                         f"tree {str(where)!r}, which is not here; give a kernel git tree that has it")
    name = f"range-{series.base_commit[:12]}"
    cfg.sources[name] = SourceSpec(name=name, git=GitRef(url=str(where), ref=series.base_commit))
    return name


def variant_with_series(cfg: HarnessConfig, on: str | None, series: Series, name: str | None = None,
                        upto: int | None = None, store: Path | None = None,
                        tree: Path | None = None) -> Variant:
    """Register (and return) the variant `on` + `series` (its first `upto` patches).

    `on` defaults to the config's default variant. The name defaults to
    `<on>+<series key>` (`@<upto>` for a prefix); a configured variant of that
    name is never replaced. Prefixes share the stored patch files and differ
    only in `patch_limit`, as bisection prefixes of a configured variant do.
    `tree`: for a git-range series, where to find its BASE if not in the
    tree it was read from (see range_source).
    """
    base = cfg.variant(on)
    if not series.patches:
        raise InputError(f"series {series.origin!r} has no patches to stack on {base.name}")
    if upto is not None and not 0 <= upto <= len(series.patches):
        raise InputError(f"series {series.origin!r}: no prefix of {upto} patches "
                         f"(it has {len(series.patches)})")
    name = name or f"{base.name}+{series.key[:10]}" + (f"@{upto}" if upto is not None else "")
    # a configured name, plus `@` for prefixes as bisect names them (`x@2`)
    if not re.fullmatch(NAME.replace("+-", "+@-"), name):
        raise InputError(f"variant name {name!r}: use letters, digits and _.+-@ only")
    known = cfg.variants.get(name)
    if known is not None and not known.stacked_on:
        raise InputError(f"variant name {name!r} is a configured variant ({cfg.file}); choose another name")
    source = range_source(cfg, series, tree) if series.source == "git-range" else base.source
    folder = stored_series(series, store)
    # on a variant that is itself stacked, its stacked patches stay below ours
    files = tuple(base.extra_patches) + tuple(folder / p.filename for p in series.patches)
    limit = None
    if upto is not None:
        below = sum(len(read_series(cfg.series_dir, s)) for s in base.series) + len(base.extra_patches)
        limit = below + upto
    variant = dataclasses.replace(
        base, name=name, source=source, patch_limit=limit, extra_patches=files, stacked_on=base.name,
        description=f"{base.name} + {series.describe()}"
                    + (f" (first {upto} patches)" if upto is not None else ""),
        features=dict(base.features), line=0)
    cfg.variants[name] = variant
    return variant


def configured_twin(cfg: HarnessConfig, on: str | None, series: Series) -> str | None:
    """The configured variant that is exactly `on` + `series`: same source, and
    the same patch bytes in the same order (the shipped series gated the way a
    developer gates theirs). Its written expectations are then the series' own
    contract. None for any other series, or when a series file cannot be read."""
    base = cfg.variant(on)
    if series.source == "git-range":
        return None
    try:
        want = [p.path.read_bytes() for s in base.series for p in read_series(cfg.series_dir, s)]
        want += [p.data for p in series.patches]
        for v in cfg.variants.values():
            if v.stacked_on or v.name == base.name or v.source != base.source or v.patch_limit is not None:
                continue
            have = [p.path.read_bytes() for s in v.series for p in read_series(cfg.series_dir, s)]
            if have == want:
                return v.name
    except (InputError, OSError):
        return None
    return None
