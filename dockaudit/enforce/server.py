"""The legacy Docker plugin protocol over a Unix socket, one thread per connection.

``/Plugin.Activate`` answers that this plugin implements ``authz``;
``/AuthZPlugin.AuthZReq`` gets the decision of `judge`; ``/AuthZPlugin.AuthZRes``
allows every response (the policy is about what is asked, not what is answered).
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from dockaudit.enforce import DEFAULT_SOCKET  # noqa: F401  (the plugin's default address)
from dockaudit.enforce.judge import Decision, Policy, judge
from dockaudit.enforce.log import DecisionLog

CONTENT_TYPE = "application/vnd.docker.plugins.v1+json"
MAX_REQUEST = 4 * 1024 * 1024  # the engine passes on bodies below 1 MiB, base64 makes them 4/3 larger


class SocketInUse(Exception):
    """Another process answers on the socket path."""


class PluginServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the engine opens a connection per concurrent request

    def __init__(self, path: str, policy: Policy, log: DecisionLog) -> None:
        self.policy = policy  # replaced whole on reload; a request uses the one it started with
        self.log = log
        _claim(path)
        super().__init__(path, _Handler)
        os.chmod(path, 0o660)

    def server_close(self) -> None:
        path = self.server_address
        super().server_close()
        if isinstance(path, str):
            Path(path).unlink(missing_ok=True)


def _claim(path: str) -> None:
    """Make way for the socket: its folder exists, a stale socket file is removed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if socket_answers(path):
        raise SocketInUse(f"another process is serving on {path}")
    if os.path.lexists(path):
        os.unlink(path)  # nobody listens: left behind by a process that died


def socket_answers(path: str | os.PathLike[str]) -> bool:
    """Whether a process accepts connections on the Unix socket *path*."""
    if not os.path.exists(path):
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1)
        probe.connect(os.fspath(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PluginServer

    def do_POST(self) -> None:  # the name http.server calls
        length = self.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else 0
        if size > MAX_REQUEST:
            self.close_connection = True
            self._reply({"Allow": False, "Msg": "dockaudit cannot judge this request, so it is refused: "
                                                "the authorization request is too large"})
            return
        raw = self.rfile.read(size) if size else b""
        if self.path == "/AuthZPlugin.AuthZReq":
            self._reply(self._authorize(raw))
        elif self.path == "/AuthZPlugin.AuthZRes":
            self._reply({"Allow": True})
        elif self.path == "/Plugin.Activate":
            self._reply({"Implements": ["authz"]})
        else:
            self._reply({"Err": f"unknown plugin method {self.path}"}, status=404)

    def _authorize(self, raw: bytes) -> dict[str, Any]:
        policy = self.server.policy
        try:
            request = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):
            request = {}
        decision: Decision = judge(policy, request)
        if decision.record is not None:
            self.server.log.write(decision.record)
        return {"Allow": decision.allow, "Msg": decision.message} if not decision.allow else {"Allow": True}

    def _reply(self, payload: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # the decision log is the log
        pass
