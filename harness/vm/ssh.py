"""The SSH transport (paramiko) to dropbear in the guest, same run() shape as serial.

Steps go to one long-lived `sh` on one session channel, framed like on the
serial console: a new channel per step costs dropbear a fork and an exec,
which under TCG is most of a 150 ms round trip. Scripts that `sh -n` rejects
(a syntax error would end the long-lived shell) run on a channel of their own.
"""

from __future__ import annotations

import io
import re
import socket
from typing import Callable

import paramiko

# `keep_waiting` is asked (every 0.2 s) whether to go on waiting for a step:
# the step's deadline (harness/vm/deadline.py) decides.
KeepWaiting = Callable[[], bool]


def new_key() -> tuple[paramiko.PKey, str]:
    """A fresh key pair per run; returns (private key, 'type base64' public line)."""
    key = paramiko.ECDSAKey.generate(bits=256)
    return key, f"{key.get_name()} {key.get_base64()}"


class SshChannel:
    def __init__(self, host: str, port: int, key: paramiko.PKey):
        self.host, self.port, self.key = host, port, key
        self.client: paramiko.SSHClient | None = None
        self.shell: paramiko.Channel | None = None
        self._buf = b""

    def connect(self, timeout: float = 10.0) -> None:
        client = paramiko.SSHClient()
        # the guest is ours and new every boot: there is no host key to know
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect(self.host, port=self.port, username="root", pkey=self.key,
                       timeout=min(timeout, 5.0), banner_timeout=min(timeout, 5.0),
                       auth_timeout=min(timeout, 5.0), allow_agent=False, look_for_keys=False)
        client.get_transport().set_keepalive(5)
        self.client = client

    def run(self, script: str, keep_waiting: KeepWaiting) -> tuple[int, str]:
        """Run a script with sh; returns (exit status, stdout+stderr)."""
        chan = self._open("sh -s")
        chan.sendall(script.encode())
        chan.shutdown_write()
        out = io.BytesIO()
        while True:
            try:
                data = chan.recv(65536)
                if not data:
                    break
                out.write(data)
            except socket.timeout:
                pass
            if chan.exit_status_ready() and not chan.recv_ready():
                break
            if not keep_waiting():
                chan.close()
                raise TimeoutError("no exit status before the step's deadline")
            self._check_transport()
        status = chan.recv_exit_status()
        chan.close()
        return status, out.getvalue().decode(errors="replace")

    def run_in_shell(self, text: str, n: int, keep_waiting: KeepWaiting) -> tuple[int, str]:
        """Type text into the long-lived shell; it must end by printing '@@E n STATUS'."""
        if self.shell is None or self.shell.closed or self.shell.exit_status_ready():
            self.shell, self._buf = self._open("sh"), b""
        self.shell.sendall(text.encode())
        end = re.compile(rb"(?m)^@@E %d (\d+)\n" % n)
        while True:
            m = end.search(self._buf)
            if m:
                out, self._buf = self._buf[:m.start()], self._buf[m.end():]
                return int(m.group(1)), out.decode(errors="replace")
            try:
                data = self.shell.recv(65536)
                if not data:
                    self.shell = None
                    raise OSError("the guest's shell closed its SSH channel")
                self._buf += data
            except socket.timeout:
                pass
            if not keep_waiting():
                self.shell.close()
                self.shell = None
                raise TimeoutError("no exit status before the step's deadline")
            self._check_transport()

    def _open(self, command: str) -> paramiko.Channel:
        chan = self.client.get_transport().open_session()
        chan.settimeout(0.2)
        chan.set_combine_stderr(True)
        chan.exec_command(command)
        return chan

    def _check_transport(self) -> None:
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise OSError("SSH transport closed")

    def close(self) -> None:
        self.shell = None
        if self.client:
            self.client.close()
            self.client = None
