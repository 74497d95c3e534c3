"""Error types shared by every stage; the CLI maps them to exit statuses."""

from __future__ import annotations


class HarnessError(Exception):
    """The harness itself could not do its job (exit status 3)."""

    exit_status = 3


class InputError(HarnessError):
    """Bad input from the user: config, patch, option, path (exit status 2).

    The message must name what is wrong and where (file, key, line, patch).
    """

    exit_status = 2


class ConfigError(InputError):
    def __init__(self, message: str, file: str | None = None,
                 key: str | None = None, line: int | None = None):
        self.file, self.key, self.line = file, key, line
        where = ""
        if file:
            where = str(file)
            if line:
                where += f":{line}"
            where += ": "
        if key:
            where += f"{key}: "
        super().__init__(where + message)


class PatchError(InputError):
    """A patch series that cannot be applied, or is not acceptable."""


class KconfigError(InputError):
    """Requested config options that did not end up in the final .config."""


class WriteError(HarnessError, OSError):
    """A file the harness must write could not be written (disk full, read-only,
    permissions): exit status 3. Still an OSError, so callers that treat a
    failed write as optional keep doing so."""

    def __init__(self, path, exc: OSError):
        OSError.__init__(self, exc.errno, f"{path}: cannot write: {exc.strerror or exc}")
        self.path = path

    def __str__(self) -> str:
        return self.strerror


class BuildError(HarnessError):
    """The kernel (or an out-of-tree module) failed to build."""

    exit_status = 1

    def __init__(self, message: str, log_path=None, errors: list[str] | None = None):
        self.log_path, self.errors = log_path, errors or []
        text = message
        if self.errors:
            text += "\n" + "\n".join("  " + e for e in self.errors)
        if log_path:
            text += f"\n(full log: {log_path})"
        super().__init__(text)
