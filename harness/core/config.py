"""The harness configuration (configs/harness.yaml): sources, variants, profiles, guest.

Everything is checked on load, including cross references (a variant naming
an unknown source or series, a profile naming a missing fragment), so later
stages can trust what they get.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.errors import ConfigError, InputError
from harness.core.yamlschema import Bool, Field, Float, Int, ListOf, MapOf, Record, Str, load

NAME = r"[A-Za-z0-9][A-Za-z0-9_.+-]*"


CONFIG_IN_ROOT = Path("configs") / "harness.yaml"   # what makes a folder the project root


def project_root(explicit: str | os.PathLike | None = None) -> Path:
    """The project folder (the one holding configs/harness.yaml), found explicitly.

    In order: `explicit` (--root), $HARNESS_ROOT, the current directory, the
    checkout this package runs from (an editable install). An explicit choice
    that does not fit is an error, not a reason to look elsewhere; when
    nothing fits the error lists every place tried. (Installed with
    `pip install .`, the package lives in site-packages, far from any
    configs/: guessing from __file__ alone named .../site-packages/configs.)
    """
    tried = []
    for how, value in (("--root", explicit), ("$HARNESS_ROOT", os.environ.get("HARNESS_ROOT"))):
        if not value:
            tried.append(f"{how} (not given)")
            continue
        folder = Path(value).expanduser().resolve()
        if not (folder / CONFIG_IN_ROOT).is_file():
            raise InputError(f"{how} {folder}: no {CONFIG_IN_ROOT} there (not a project folder)")
        return folder
    for how, folder in (("the current directory", Path.cwd()),
                        ("the checkout of the running package", Path(__file__).resolve().parents[2])):
        if (folder / CONFIG_IN_ROOT).is_file():
            return folder.resolve()
        tried.append(f"{how} {folder} (no {CONFIG_IN_ROOT})")
    raise InputError("cannot find the project folder (the one holding configs/harness.yaml); tried: "
                     + "; ".join(tried) + ". Run from the project folder, pass --root DIR or set "
                     "HARNESS_ROOT")


def cache_root() -> Path:
    """Caches live outside the checkout so clean clones reuse them."""
    env = os.environ.get("HARNESS_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "harness"


@dataclass(frozen=True)
class GitRef:
    url: str
    ref: str = "HEAD"
    _line: int = 0


@dataclass(frozen=True)
class SourceSpec:
    name: str
    debian: str | None = None
    path: str | None = None
    git: GitRef | None = None
    line: int = 0

    @property
    def kind(self) -> str:
        return "debian" if self.debian else "path" if self.path else "git"


@dataclass(frozen=True)
class Variant:
    name: str
    source: str
    series: tuple[str, ...] = ()
    description: str = ""
    patch_limit: int | None = None   # only the first N patches (bisection prefixes)
    # features declared here win over what the suites' probes find in the tree
    # (checked against the suites' features when the scenarios load)
    features: dict = field(default_factory=dict, hash=False, compare=False)
    line: int = 0
    # patch files applied after the series: a series under test stacked on a
    # configured variant (harness/intake/stack.py); the build key covers their
    # content as it covers the series'
    extra_patches: tuple[Path, ...] = ()
    stacked_on: str = ""        # the configured variant extra_patches go on (named in errors)

    @property
    def configured(self) -> bool:
        """Declared in the config (not a gated series stacked on one, nor a bisection prefix)."""
        return not self.stacked_on and self.patch_limit is None


@dataclass(frozen=True)
class Profile:
    name: str
    base: str
    fragments: tuple[Path, ...]
    description: str = ""
    # classes of kernel report the profile claims to catch (the canary checks them)
    catches: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuestConfig:
    accel: str = "auto"
    smp: int = 2
    memory_mb: int = 1024
    transport: str = "serial"
    # budgets in the YAML are for a reference speed; under TCG they are scaled by
    # this factor. None ("auto" in the YAML): measured for the host at each run
    # (harness/vm/calibrate.py); a number: that factor, as is.
    tcg_slowdown: float | None = None
    boot_timeout_s: float = 60.0
    step_timeout_s: float = 60.0
    cmdline: str = ""
    snapshot: bool = True       # restore guests from a saved boot (harness/snapshot.py)


@dataclass
class HarnessConfig:
    file: Path
    root: Path
    sources: dict[str, SourceSpec]
    variants: dict[str, Variant]
    profiles: dict[str, Profile]
    guest: GuestConfig
    default_variant: str
    default_profile: str
    series_dir: Path
    scenarios_dir: Path
    matrix_file: Path
    extra: dict = field(default_factory=dict)

    def variant(self, name: str | None, given_by: str = "") -> Variant:
        """The variant called `name` (the default one for None); `given_by` says
        where the name came from (e.g. "command line"), for the error."""
        name = name or self.default_variant
        if name not in self.variants:
            raise self._unknown("variant", name, self.variants, given_by)
        return self.variants[name]

    def profile(self, name: str | None, given_by: str = "") -> Profile:
        name = name or self.default_profile
        if name not in self.profiles:
            raise self._unknown("profile", name, self.profiles, given_by)
        return self.profiles[name]

    def _unknown(self, what: str, name: str, known, given_by: str) -> InputError:
        # the name is wrong, not the file that lists the known ones
        return InputError(f"{given_by + ': ' if given_by else ''}unknown {what} {name!r} "
                          f"({self.file} defines: {', '.join(known) or 'none'})")

    def series_path(self, series: str) -> Path:
        return self.series_dir / series


class FloatOrAuto(Float):
    """A number, or `auto` (None): the harness decides."""

    def check(self, node, ctx, path):
        if getattr(node, "value", None) == "auto":
            return None
        return super().check(node, ctx, path)

    def describe(self) -> str:
        return "a number or auto"


def _schema() -> Record:
    raw = lambda **kw: kw  # noqa: E731 - keep records as dicts, converted below
    git = Record({"url": Field(Str(), required=True), "ref": Field(Str(), default="HEAD")},
                 build=lambda **kw: GitRef(**kw))
    source = Record({"debian": Field(Str()), "path": Field(Str()), "git": Field(git)},
                    build=raw, exactly_one_of=("debian", "path", "git"))
    variant = Record({"source": Field(Str()), "series": Field(ListOf(Str()), default=list),
                      "description": Field(Str(), default=""),
                      "features": Field(MapOf(Bool(), r"[a-z0-9_]+"), default=dict)}, build=raw)
    profile = Record({"base": Field(Str(), default="tinyconfig"),
                      "fragments": Field(ListOf(Str()), required=True),
                      "description": Field(Str(), default=""),
                      "catches": Field(ListOf(Str()), default=list)}, build=raw)
    guest = Record({
        "accel": Field(Str(("auto", "kvm", "tcg")), default="auto"),
        "smp": Field(Int(1), default=2),
        "memory_mb": Field(Int(128), default=1024),
        "transport": Field(Str(("serial", "ssh")), default="serial"),
        "tcg_slowdown": Field(FloatOrAuto(1.0), default=None),
        "boot_timeout_s": Field(Float(1.0), default=60.0),
        "step_timeout_s": Field(Float(1.0), default=60.0),
        "cmdline": Field(Str(), default=""),
        "snapshot": Field(Bool(), default=True),
    }, build=raw)
    defaults = Record({"variant": Field(Str()), "profile": Field(Str())}, build=raw)
    return Record({
        "sources": Field(MapOf(source, NAME), required=True),
        "variants": Field(MapOf(variant, NAME), required=True),
        "profiles": Field(MapOf(profile, NAME), required=True),
        "guest": Field(guest, default=None),
        "defaults": Field(defaults, default=None),
        "series_dir": Field(Str(), default="kernel-patches"),
        "kconfig_dir": Field(Str(), default="configs/kconfig"),
        "scenarios_dir": Field(Str(), default="configs/scenarios"),
        "matrix": Field(Str(), default="configs/matrix.yaml"),
    }, build=raw)


def default_config_file(root: Path | None = None) -> Path:
    return (root or project_root()) / CONFIG_IN_ROOT


def load_config(path: Path | None = None, root: Path | None = None) -> HarnessConfig:
    """Load and check the harness YAML.

    Without `path`: the project root's configs/harness.yaml (see project_root;
    `root` is --root). With `path`: relative paths in it are taken from
    `root` if given, else from the folder above its configs/ folder, else
    from the project root.
    """
    if path is None:
        root = project_root(root)
        path = root / CONFIG_IN_ROOT
    path = Path(path)
    if root is not None:
        root = project_root(root)
    elif path.resolve().parent.name == "configs":
        root = path.resolve().parent.parent
    else:
        root = project_root()
    data = load(path, _schema())
    f = str(path)

    def rel(p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else root / q

    sources = {}
    for name, s in data["sources"].items():
        sources[name] = SourceSpec(name=name, debian=s["debian"], path=s["path"], git=s["git"],
                                   line=s["_line"])
    if not sources:
        raise ConfigError("at least one source is needed", file=f, key="sources")

    series_dir = rel(data["series_dir"])
    variants = {}
    for name, v in data["variants"].items():
        src = v["source"] or (next(iter(sources)) if len(sources) == 1 else None)
        if src is None:
            raise ConfigError("needs a source (there is more than one)", file=f,
                              key=f"variants.{name}.source", line=v["_line"])
        if src not in sources:
            raise ConfigError(f"unknown source {src!r} (known: {', '.join(sources)})", file=f,
                              key=f"variants.{name}.source", line=v["_line"])
        for i, series in enumerate(v["series"]):
            sfile = series_dir / series / "series"
            if not sfile.is_file():
                raise ConfigError(f"unknown series {series!r}: {sfile} does not exist", file=f,
                                  key=f"variants.{name}.series[{i}]", line=v["_line"])
        variants[name] = Variant(name=name, source=src, series=tuple(v["series"]),
                                 description=v["description"],
                                 features=v["features"], line=v["_line"])

    kdir = rel(data["kconfig_dir"])
    profiles = {}
    for name, p in data["profiles"].items():
        frags = []
        for i, frag in enumerate(p["fragments"]):
            fp = Path(frag) if Path(frag).is_absolute() else kdir / frag
            if not fp.is_file():
                raise ConfigError(f"config fragment {fp} does not exist", file=f,
                                  key=f"profiles.{name}.fragments[{i}]", line=p["_line"])
            frags.append(fp)
        profiles[name] = Profile(name=name, base=p["base"], fragments=tuple(frags),
                                 description=p["description"], catches=tuple(p["catches"]))

    g = data["guest"] or {}
    guest = GuestConfig(**{k: v for k, v in g.items() if not k.startswith("_")})
    d = data["defaults"] or {}
    default_variant = d.get("variant") or next(iter(variants))
    default_profile = d.get("profile") or next(iter(profiles))
    if default_variant not in variants:
        raise ConfigError(f"unknown variant {default_variant!r}", file=f, key="defaults.variant")
    if default_profile not in profiles:
        raise ConfigError(f"unknown profile {default_profile!r}", file=f, key="defaults.profile")
    return HarnessConfig(file=path, root=root, sources=sources, variants=variants,
                         profiles=profiles, guest=guest, default_variant=default_variant,
                         default_profile=default_profile, series_dir=series_dir,
                         scenarios_dir=rel(data["scenarios_dir"]), matrix_file=rel(data["matrix"]))
