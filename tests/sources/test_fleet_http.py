"""The plain HTTP/1.1 reader of a Unix socket, against a server that answers with canned bytes.

The engine frames its answers with Content-Length or chunked encoding, keeps
connections alive, and may close one between two requests: each case is
sent as those bytes, exactly, by a server on a socket in a temporary folder.
"""

from __future__ import annotations

import socket
import threading
import time
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

    start.servers = servers  # type: ignore[attr-defined]
    yield start
    for server in servers:
        server.close()


def servers_of(serve) -> list[CannedServer]:
    return serve.servers


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
        b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n{\"ServerVersion\":\"27\"}",
        None,  # the engine closes the idle connection
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
    ]
    path = serve(*answers)
    reader = _SocketReader(str(path), 5, 5)
    server = servers_of(serve)[0]
    try:
        assert reader.info() == {"ServerVersion": "27"}
        assert reader.networks() == []
    finally:
        reader.close()
    assert server.connections == 2
    # no API version in the paths: the engine answers in its own, as /version would have said
    assert [r.split(b"\r\n", 1)[0] for r in server.requests] == [b"GET /info HTTP/1.1", b"GET /networks HTTP/1.1"]


def test_the_check_is_a_ping_and_its_refusal_is_a_connection_error(serve):
    path = serve(b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Length: 2\r\n\r\nOK",
                 b"HTTP/1.1 404 Not Found\r\nContent-Length: 35\r\n\r\n{\"message\": \"page not found here\"}\n")
    reader = _SocketReader(str(path), 5, 5)
    try:
        reader.check(f"unix://{path}")
        with pytest.raises(LiveError, match=r"cannot connect to the Docker engine at unix://.*: page not found here$"):
            reader.check(f"unix://{path}")
    finally:
        reader.close()
    assert [r.split(b"\r\n", 1)[0] for r in servers_of(serve)[0].requests] == [b"GET /_ping HTTP/1.1"] * 2


@pytest.fixture
def silent(tmp_path: Path) -> Iterator[Path]:
    """A socket that accepts connections and never answers."""
    path = tmp_path / "silent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)
    yield path
    listener.close()


def test_a_socket_that_answers_nothing_times_out(silent):
    reader = _SocketReader(str(silent), 30, 0.5)
    try:
        with pytest.raises(LiveError, match="cannot connect to the Docker engine at .*silent.sock: timed out"):
            reader.check(f"unix://{silent}")
    finally:
        reader.close()


def test_a_failed_check_does_not_wait_for_the_reads_sent_beside_it(silent, monkeypatch):
    """The list and the other first reads go out with the check: when the check times out, they are
    given up at once rather than each waiting for its own, longer, timeout."""
    from dockaudit.sources import live

    monkeypatch.setattr(live, "CONNECT_TIMEOUT", 0.5)
    start = time.monotonic()
    with pytest.raises(LiveError, match="cannot connect to the Docker engine at .*silent.sock: timed out"):
        live.audit_host(f"unix://{silent}", timeout=30)
    assert time.monotonic() - start < 5


def test_a_reader_closed_meanwhile_wakes_a_waiting_read_and_opens_nothing(silent):
    reader = _SocketReader(str(silent), 30, 30)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            reader.info()
        except OSError as exc:
            failures.append(exc)

    waiting = threading.Thread(target=read)
    waiting.start()
    time.sleep(0.2)  # the request is sent and its answer awaited
    reader.close()
    waiting.join(5)
    assert not waiting.is_alive() and len(failures) == 1
    with pytest.raises(OSError):
        reader.images()

