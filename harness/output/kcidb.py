"""A run's results as KCIDB I/O data (kcidb-io schema v5.3), for KernelCI.

Read from results/<run>/summary.json (harness.output.results):

* checkouts: one per variant: the source plus its series, with KCIDB's
  patchset hash (sha256 over the newline-terminated sha256 of each patch,
  in order; "" without patches) and the patch files;
* builds: one per (variant, profile): compiler, config name and options, the
  kconfig fragments as input files, the build log and .config when found
  (results/<run>/builds/<variant>-<profile>/, else the build cache when its
  key is still the run's);
* tests: one per cell (path `<prefix>.<scenario>`) and one per subtest of
  its steps (`<prefix>.<scenario>.<subtest path>`, "/" becoming "."), with
  the cell's console.log as log and kernel.log and report files as outputs;
* issues and incidents: one issue per distinct crash-report signature (the
  same crash in another run is the same issue), one incident per report in
  a cell, linked to the cell's test and build.

A test's `status` is about the kernel, not the gate: a cell whose kernel
crashed is FAIL even when the crash was the expected outcome (baseline); the
gate's verdict is in `misc.expected` / `misc.as_expected`.

Local files are file:// URLs unless `base_url` says where the results folder
is published; files outside the results folder are left out then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import quote

import jsonschema
from kcidb_io import schema as kcidb_schema

from harness.build.kernel import load_build
from harness.core.errors import HarnessError, InputError

SCHEMA = kcidb_schema.V5_3
ORIGIN_RE = re.compile(r"^[a-z0-9_]+$")
_PATH_PART = re.compile(r"[^a-zA-Z0-9_-]+")
_EXCERPT_MAX = 16384
# cell outcome -> KCIDB status of the kernel under test
_CELL_STATUS = {"clean": "PASS", "report": "FAIL", "check-failed": "FAIL", "hang": "FAIL",
                "panic": "FAIL", "no-boot": "FAIL", "error": "ERROR", "n/a": "SKIP"}


def patchset_hash(sha256s: list[str]) -> str:
    """KCIDB's patchset hash: `sha256sum *.patch | cut -c-64 | sha256sum`; "" for no patches."""
    if not sha256s:
        return ""
    return hashlib.sha256("".join(h + "\n" for h in sha256s).encode()).hexdigest()


def path_part(name: str) -> str:
    """One component of a KCIDB test path ([a-zA-Z0-9_-]+)."""
    return _PATH_PART.sub("_", name).strip("_") or "_"


def subtest_path(name: str) -> str:
    return ".".join(path_part(p) for p in name.split("/") if p)


def timestamp(local: str | None) -> str | None:
    """summary.json's local ISO times with the offset KCIDB's date-time needs."""
    if not local:
        return None
    try:
        return dt.datetime.fromisoformat(local).astimezone().isoformat()
    except ValueError:
        return None


class _Files:
    """URLs of local files: under base_url when the results folder is published."""

    def __init__(self, results_dir: Path, base_url: str | None):
        self.results_dir, self.base_url = results_dir.resolve(), base_url

    def url(self, path: Path) -> str | None:
        path = Path(path)
        if not path.is_file():
            return None
        path = path.resolve()
        if self.base_url is None:
            return path.as_uri()
        try:
            rel = path.relative_to(self.results_dir)
        except ValueError:
            return None      # not published with the results
        return self.base_url.rstrip("/") + "/" + quote(rel.as_posix())

    def resources(self, paths: list[Path]) -> list[dict]:
        out, names = [], set()
        for p in paths:
            u = self.url(p)
            name = Path(p).name
            if u and name not in names:
                names.add(name)
                out.append({"name": name, "url": u})
        return out


def _drop_empty(d: dict) -> dict:
    """KCIDB forbids nulls: leave missing data out."""
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {}}


def read_summary(results_dir: Path) -> dict:
    path = Path(results_dir) / "summary.json"
    if not path.is_file():
        raise InputError(f"{path}: no such file (is {results_dir} a results folder of `harness run`?)")
    try:
        summary = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    for key in ("run_id", "builds", "cells"):
        if key not in summary:
            raise InputError(f"{path}: key {key!r} missing: not a summary.json of `harness run`")
    return summary


def _project_root(summary: dict) -> Path | None:
    cfg = (summary.get("inputs") or {}).get("config_file")
    return Path(cfg).resolve().parent.parent if cfg else None


def _checkouts(summary: dict, origin: str, files: _Files, root: Path | None) -> dict[str, dict]:
    run_id = summary["run_id"]
    out: dict[str, dict] = {}
    for b in summary["builds"]:
        variant = b["variant"]
        if variant in out:
            continue
        patches = b.get("patches") or []
        src = b.get("source") or {}
        patch_paths = [root / "kernel-patches" / p["series"] / p["file"] for p in patches] if root else []
        out[variant] = _drop_empty({
            "id": f"{origin}:{run_id}:{variant}",
            "origin": origin,
            "tree_name": src.get("name"),
            "git_commit_name": (f"{src['version']}" if src.get("version") else None),
            "patchset_hash": patchset_hash([p["sha256"] for p in patches]),
            "patchset_files": files.resources(patch_paths) if len(patch_paths) == len(patches) else [],
            "start_time": timestamp(summary.get("started")),
            "valid": True,
            "comment": f"{src.get('origin', src.get('name', 'source'))} + "
                       f"{len(patches)} patch(es) of variant {variant}",
            "misc": _drop_empty({"variant": variant, "source": src or None,
                                 "patches": [{k: p.get(k) for k in ("series", "file", "sha256", "subject")}
                                             for p in patches]}),
        })
    return out


def _build_files(results_dir: Path, b: dict) -> tuple[Path | None, Path | None]:
    """(build.log, .config) of a build: copied into the results, else the cache if still the same build."""
    pub = results_dir / "builds" / f"{b['variant']}-{b['profile']}"
    log, config = pub / "build.log", pub / "config"
    if log.is_file() or config.is_file():
        return (log if log.is_file() else None), (config if config.is_file() else None)
    cached = load_build(b["variant"], b["profile"])
    if cached is None or cached.key != b.get("key"):
        return None, None
    return cached.dir / "build.log", cached.config_path


def _builds(summary: dict, origin: str, files: _Files, checkouts: dict, results_dir: Path,
            root: Path | None) -> dict[tuple[str, str], dict]:
    run_id = summary["run_id"]
    profiles = (summary.get("inputs") or {}).get("profiles") or {}
    out = {}
    for b in summary["builds"]:
        v, p = b["variant"], b["profile"]
        prof = profiles.get(p) or {}
        frags = list((prof.get("fragments") or {}).keys())
        log, config = _build_files(results_dir, b)
        frag_paths = [root / "configs" / "kconfig" / f for f in frags] if root else []
        error = b.get("error")
        out[(v, p)] = _drop_empty({
            "id": f"{origin}:{run_id}:{v}.{p}",
            "checkout_id": checkouts[v]["id"],
            "origin": origin,
            "architecture": "x86_64",
            "compiler": b.get("compiler"),
            "config_name": f"{p}: {prof.get('base', '?')} + {', '.join(frags)}" if prof else p,
            "config_url": files.url(config) if config else None,
            "log_url": files.url(log) if log else None,
            "input_files": files.resources(frag_paths),
            "duration": b.get("duration_s"),
            "status": "FAIL" if error else "PASS",
            "log_excerpt": str(error)[:_EXCERPT_MAX] if error else None,
            "misc": _drop_empty({"key": b.get("key"), "release": b.get("release"),
                                 "config_sha256": b.get("config_sha256"), "options": b.get("options"),
                                 "features": b.get("features"), "built_now": b.get("built")}),
        })
    return out


def _subtests(cell: dict, test_base: dict, cell_path: str) -> list[dict]:
    out, seen = [], set()
    for step in cell.get("steps") or []:
        for st in step.get("subtests") or []:
            path = f"{cell_path}.{subtest_path(st['name'])}"
            if path in seen:       # the same subtest name in two steps
                path = f"{cell_path}.{path_part(step['name'])}.{subtest_path(st['name'])}"
            seen.add(path)
            result = str(st.get("result", ""))
            status = {"pass": "PASS", "skip": "SKIP"}.get(result, "FAIL")
            out.append(_drop_empty({
                **test_base,
                "id": f"{test_base['id']}:{step['name']}/{st['name']}",
                "path": path,
                "status": status,
                "comment": f"{st['name']}: {result}" + (f" ({st['detail']})" if st.get("detail") else ""),
                "misc": {"step": step["name"], "subtest": st["name"], "result": result},
            }))
    return out


def _cell_files(results_dir: Path, cell: dict) -> tuple[Path, list[Path]]:
    d = results_dir / (cell.get("dir") or f"cells/{cell['id']}")
    outputs = [d / n for n in ("kernel.log", "reports.txt", "reports.json", "qemu-cmdline.txt", "repro.sh")]
    return d / "console.log", outputs


def _excerpt(cell: dict) -> str | None:
    reports = cell.get("reports") or []
    if reports:
        return (reports[0].get("text") or reports[0].get("title") or "")[:_EXCERPT_MAX] or None
    text = "; ".join(x for x in (cell.get("why"), cell.get("detail")) if x)
    return text[:_EXCERPT_MAX] or None


def export_kcidb(results_dir: Path, origin: str = "harness", base_url: str | None = None,
                 test_prefix: str = "harness") -> dict:
    """The run in results_dir as KCIDB I/O data, validated against the schema."""
    results_dir = Path(results_dir)
    if not ORIGIN_RE.match(origin):
        raise InputError(f"KCIDB origin {origin!r} must match {ORIGIN_RE.pattern}")
    summary = read_summary(results_dir)
    run_id = summary["run_id"]
    files = _Files(results_dir, base_url)
    root = _project_root(summary)
    checkouts = _checkouts(summary, origin, files, root)
    builds = _builds(summary, origin, files, checkouts, results_dir, root)
    tests, issues, incidents = [], {}, []
    prefix = path_part(test_prefix)
    for cell in summary["cells"]:
        build = builds.get((cell["variant"], cell["profile"]))
        if build is None:
            raise InputError(f"{results_dir}/summary.json: cell {cell['id']} names build "
                             f"{cell['variant']}/{cell['profile']}, which builds[] does not list")
        log, outputs = _cell_files(results_dir, cell)
        cell_path = f"{prefix}.{path_part(cell['scenario'])}"
        env = _drop_empty({"comment": f"QEMU {cell.get('accel', '?')}, {cell.get('cpus', '?')} CPU(s) online",
                           "misc": _drop_empty({"accel": cell.get("accel"), "cpus": cell.get("cpus"),
                                                "boot_from": cell.get("boot_from")})})
        test = _drop_empty({
            "id": f"{origin}:{run_id}:{cell['id']}",
            "build_id": build["id"],
            "origin": origin,
            "path": cell_path,
            "status": _CELL_STATUS.get(cell.get("outcome"), "ERROR"),
            "start_time": timestamp(cell.get("started")),
            "duration": cell.get("duration_s"),
            "log_url": files.url(log),
            "output_files": files.resources(outputs),
            "log_excerpt": _excerpt(cell),
            "environment": env,
            "comment": f"{cell['scenario']} on {cell['variant']}/{cell['profile']}: {cell.get('outcome')}"
                       f" (expected {cell.get('expected')})",
            "misc": _drop_empty({"cell": cell["id"], "outcome": cell.get("outcome"),
                                 "expected": cell.get("expected"), "as_expected": cell.get("passed"),
                                 "flaky": cell.get("flaky"), "attempts": cell.get("attempts")}),
        })
        tests.append(test)
        base = {k: test[k] for k in ("id", "build_id", "origin", "start_time", "environment") if k in test}
        tests.extend(_subtests(cell, base, cell_path))
        for i, rep in enumerate(cell.get("reports") or []):
            sig = rep.get("signature") or hashlib.sha256(rep.get("title", "").encode()).hexdigest()[:16]
            issue_id = f"{origin}:report-{sig}"
            issues.setdefault(issue_id, _drop_empty({
                "id": issue_id, "version": 0, "origin": origin,
                "report_subject": rep.get("title"),
                "comment": rep.get("title"),
                "categories": [f"runtime.{path_part(rep.get('kind') or 'report')}"],
                "misc": _drop_empty({"kind": rep.get("kind"), "frame": rep.get("frame"),
                                     "module": rep.get("module"), "signature": sig}),
            }))
            incidents.append(_drop_empty({
                "id": f"{test['id']}:report{i}", "origin": origin,
                "issue_id": issue_id, "issue_version": 0,
                "build_id": build["id"], "test_id": test["id"], "present": True,
                "comment": rep.get("title"),
                "misc": _drop_empty({"step": rep.get("step"), "expected": rep.get("expected"),
                                     "corrupted": rep.get("corrupted")}),
            }))
    data = {"version": {"major": SCHEMA.major, "minor": SCHEMA.minor},
            "checkouts": list(checkouts.values()), "builds": list(builds.values()), "tests": tests,
            "issues": list(issues.values()), "incidents": incidents}
    validate(data)
    return data


def validate(data: dict) -> None:
    """Raise HarnessError naming the first violation of the KCIDB schema."""
    try:
        SCHEMA.validate_exactly(data)
    except jsonschema.exceptions.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise HarnessError(f"KCIDB export does not validate against schema {SCHEMA}: at {where}: "
                           f"{exc.message}") from None
