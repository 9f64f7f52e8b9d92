"""The plain HTTP/1.1 reader of a Unix socket, against a server that answers with canned bytes.

The engine frames its answers with Content-Length or chunked encoding, keeps
connections alive, and may close one between two requests: each case is
sent as those bytes, exactly, by a server on a socket in a temporary folder.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockaudit.sources.live import LiveError, _SocketReader, _UnixHttp


class CannedServer:
    """Accepts connections on *path*; for each request read, sends the next answer of the list.

    An answer of None closes the connection instead (the request is then read again on a new one)."""

    def __init__(self, path: Path, answers: list[bytes | None]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                while self.answers:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        data = conn.recv(4096)
                        if not data:
                            break
                        request += data
                    if not request:
                        break
                    answer = self.answers.pop(0)
                    if answer is None:
                        break
                    self.requests.append(request)
                    conn.sendall(answer)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    servers: list[CannedServer] = []

    def start(*answers: bytes | None) -> Path:
        path = tmp_path / f"engine{len(servers)}.sock"
        servers.append(CannedServer(path, list(answers)))
        return path

    yield start
    for server in servers:
        server.close()


def chunked(*parts: bytes, trailer: bytes = b"") -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + body + b"0\r\n" + trailer + b"\r\n")


def test_content_length_and_chunked_answers_on_one_kept_alive_connection(serve):
    path = serve(
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 14\r\n\r\n{\"Id\": \"abc\"}\n",
        chunked(b'{"Titles": ["PID"], ', b'"Processes": [["1"]]}'),
        chunked(b"[]", trailer=b"X-Trailer: yes\r\n"),
        b"HTTP/1.1 204 No Content\r\n\r\n",
    )
    conn = _UnixHttp(str(path), 5)
    try:
        assert conn.get("/v1.41/containers/abc/json") == (200, b'{"Id": "abc"}\n')
        assert conn.get("/v1.41/containers/abc/top") == (200, b'{"Titles": ["PID"], "Processes": [["1"]]}')
        assert conn.get("/v1.41/networks") == (200, b"[]")
        assert conn.get("/_ping") == (204, b"")
    finally:
        conn.close()


def test_a_large_chunked_answer_arrives_whole(serve):
    parts = [(b"%05d," % i) * 700 for i in range(300)]  # about 1.2 MB in 300 chunks
    path = serve(chunked(*parts))
    conn = _UnixHttp(str(path), 5)
    try:
        status, body = conn.get("/v1.41/containers/json?all=1")
    finally:
        conn.close()
    assert status == 200 and body == b"".join(parts)


def test_the_answer_after_connection_close_opens_a_new_connection(serve):
    path = serve(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
                 b"HTTP/1.1 404 Not Found\r\nContent-Length: 27\r\n\r\n{\"message\": \"No such one\"}\n")
    conn = _UnixHttp(str(path), 5)
    try:
        assert conn.get("/v1.41/info") == (200, b"{}")
        assert conn.sock is None
        assert conn.get("/v1.41/containers/x/json") == (404, b'{"message": "No such one"}\n')
    finally:
        conn.close()


def test_garbage_is_an_os_error_not_a_crash(serve):
    path = serve(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    conn = _UnixHttp(str(path), 5)
    with pytest.raises(OSError, match="not HTTP/1.1"):
        conn.get("/v1.41/info")
    conn.close()


def test_a_kept_alive_connection_the_engine_closed_is_opened_again(serve):
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{\"ApiVersion\":\"1.41\"}",
        None,  # the engine closes the idle connection
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
    ]
    path = serve(*answers)
    reader = _SocketReader(str(path), None, 5)
    try:
        reader.negotiate(f"unix://{path}", 5)
        assert reader.version == "1.41"
        assert reader.networks() == []
    finally:
        reader.close()


def test_a_socket_that_answers_nothing_times_out(tmp_path):
    path = tmp_path / "silent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    reader = _SocketReader(str(path), None, 30)
    try:
        with pytest.raises(LiveError, match="cannot connect to the Docker engine at .*silent.sock: timed out"):
            reader.negotiate(f"unix://{path}", 0.5)
    finally:
        reader.close()
        listener.close()
