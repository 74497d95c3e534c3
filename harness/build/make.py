"""Running make with its output in a log, and the first errors of such a log.

Shared by the kernel build, the guest modules/programs and the kselftests.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess

from harness.core.progress import Progress

_OBJ_LINE = re.compile(r"^\s+(CC|AS|LD|AR|HOSTCC|CC \[M\]|LD \[M\]|OBJCOPY|GEN|BTF|KSYMS|MODPOST|HOSTLD)\s")
_ERROR_LINE = re.compile(r"(^|\s)(error|fatal error|undefined reference)\b|: error:|^ERROR: |^make\S*: \*\*\*")


def first_errors(log_text: str, limit: int = 12) -> list[str]:
    """The first compiler/linker errors of a build log, with a line of context."""
    lines = log_text.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if _ERROR_LINE.search(line) and "warning:" not in line and "-Werror" not in line[:40]:
            if line.startswith("make") and out:
                continue  # make's own "*** Error" lines only matter if nothing else explains it
            out.append(line.strip())
            if i + 1 < len(lines) and lines[i + 1].startswith(" ") and "|" in lines[i + 1]:
                out.append(lines[i + 1].rstrip())
            if len(out) >= limit:
                break
    return out


def run_make(args: list[str], log, env: dict, progress: Progress | None = None, cwd=None) -> int:
    """Run make (or any build command), its output into `log`; returns the exit status."""
    full_env = dict(os.environ) | env
    proc = subprocess.Popen(args, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    try:
        for line in proc.stdout:
            log.write(line)
            if progress and _OBJ_LINE.match(line):
                progress.tick()
        return proc.wait()
    except BaseException:
        # Ctrl-C or an error: don't leave make (and its gcc children) running.
        # SIGTERM first: make then deletes the target it was making, so a
        # half-written object never looks up to date to the next build;
        # SIGKILL if it has not gone after a while.
        for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, None)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        proc.wait()
        raise
