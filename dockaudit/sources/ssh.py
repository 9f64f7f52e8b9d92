"""An engine behind ``ssh://[user@]host[:port]``, reached through the system's ``ssh`` client.

As the Docker CLI does, each connection runs ``ssh [-l user] [-p port] -- host
docker system dial-stdio``: the ssh client's own configuration, keys, agent and
known hosts apply, and the remote ``docker`` forwards the stream to its
engine. The connections are offered on a Unix socket in a private temporary
directory, so the engine is then read exactly as a local one is.

(The docker SDK's own ssh transport does the same when told to shell out, but
it imports paramiko on every ``import docker`` once paramiko is installed,
a fifth of a second at each start of ``dockaudit live``.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from urllib.parse import urlsplit

__all__ = ["SshRelay", "ssh_command"]


def ssh_command(url: str) -> list[str]:
    """The command that opens a stream to the engine at *url* (``ssh://user@host:port``)."""
    parts = urlsplit(url)
    if parts.scheme != "ssh" or not parts.hostname:
        raise ValueError(f"not an ssh:// address: {url}")
    argv = ["ssh"]
    if parts.username:
        argv += ["-l", parts.username]
    if parts.port:
        argv += ["-p", str(parts.port)]
    # the ssh client never asks: a missing key or an unknown host key is an error, not a prompt
    argv += ["-o", "BatchMode=yes", "--", parts.hostname, "docker", "system", "dial-stdio"]
    return argv


class SshRelay:
    """A Unix socket whose every connection is piped through its own ``ssh … dial-stdio``."""

    def __init__(self, url: str) -> None:
        self.argv = ssh_command(url)
        if shutil.which("ssh") is None:
            raise OSError("the ssh client is not installed")
        self.directory = tempfile.mkdtemp(prefix="dockaudit-ssh-")  # mode 0700: only this user connects
        self.path = os.path.join(self.directory, "engine.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(64)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.lock = threading.Lock()
        self.closed = False
        self.stderr: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, start_new_session=True)
            except OSError as exc:
                self.stderr.append(str(exc))
                conn.close()
                continue
            with self.lock:
                if self.closed:
                    process.kill()
                    conn.close()
                    return
                self.processes.append(process)
            threading.Thread(target=self._upstream, args=(conn, process), daemon=True).start()
            threading.Thread(target=self._downstream, args=(conn, process), daemon=True).start()
            threading.Thread(target=self._errors, args=(process,), daemon=True).start()

    @staticmethod
    def _upstream(conn: socket.socket, process: subprocess.Popen[bytes]) -> None:
        try:
            while data := conn.recv(65536):
                process.stdin.write(data)
                process.stdin.flush()
        except OSError:
            pass
        finally:
            try:
                process.stdin.close()
            except OSError:
                pass

    @staticmethod
    def _downstream(conn: socket.socket, process: subprocess.Popen[bytes]) -> None:
        try:
            while data := process.stdout.read1(65536):
                conn.sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _errors(self, process: subprocess.Popen[bytes]) -> None:
        text = process.stderr.read().decode(errors="replace").strip()
        if text:
            self.stderr.append(text.splitlines()[-1])

    def reason(self) -> str | None:
        """What the ssh client said when it failed (``Permission denied (publickey)``), if anything."""
        return self.stderr[-1] if self.stderr else None

    def close(self) -> None:
        with self.lock:
            self.closed = True
            processes, self.processes = self.processes, []
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self.listener.close()
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
