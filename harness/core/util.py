"""Small shared helpers: subprocess running, hashing, locking, atomic writes."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import subprocess
from pathlib import Path

from harness.core.errors import HarnessError, WriteError

GIT_ENV = {
    "GIT_AUTHOR_NAME": "harness", "GIT_AUTHOR_EMAIL": "harness@localhost",
    "GIT_COMMITTER_NAME": "harness", "GIT_COMMITTER_EMAIL": "harness@localhost",
    # fixed dates make the base commit id depend on content only
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}


def run(cmd: list[str], cwd=None, env=None, check=True, capture=True,
        input: str | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=full_env, text=True, input=input,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None, timeout=timeout)
    except FileNotFoundError:
        raise HarnessError(f"command not found: {cmd[0]} (run `make deps`)") from None
    if check and proc.returncode != 0:
        err = (proc.stderr or proc.stdout or "").strip()
        raise HarnessError(f"`{' '.join(map(str, cmd))}` failed ({proc.returncode}): {err[-2000:]}")
    return proc


def git(repo, *args, check=True, env=None, input=None) -> str:
    e = dict(GIT_ENV)
    if env:
        e.update(env)
    return run(["git", "-C", str(repo), *args], env=e, check=check, input=input).stdout.strip()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_text(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def sha256_tree(root: Path, patterns=("*",)) -> str:
    """Hash of every file's relative path and content under root (sorted)."""
    h = hashlib.sha256()
    files = sorted({p for pat in patterns for p in Path(root).rglob(pat) if p.is_file()})
    for p in files:
        rel = p.relative_to(root).as_posix()
        if "/." in "/" + rel or rel.endswith((".o", ".ko", ".cmd", ".mod", ".mod.c", ".order", ".symvers")):
            continue
        h.update(rel.encode() + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()


@contextlib.contextmanager
def file_lock(path: Path):
    """An exclusive advisory lock (serialises cache writers across processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temp file + rename so readers never see half a file.

    The temp file is created with mode 0666 minus the umask, as open() would
    (mkstemp's 0600 made summary.json and junit.xml unreadable to a CI
    artifact uploader running as another user). A failed write (a full disk)
    leaves the old file, or none, never a truncated one, and raises
    WriteError naming the path (exit status 3).
    """
    path = Path(path)
    data = data.encode() if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(path)
    except OSError as exc:
        raise WriteError(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError(path, exc) from None
        raise


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new file next to path, exclusive, mode 0666 & ~umask (like open())."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temporary name for {path.name}")


def write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: Path, default=None):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default
