"""Read the containers of a Docker engine, read-only, as `ContainerSpec`s.

The only module that imports the ``docker`` SDK, and only inside functions, so
that ``dockaudit check`` never pays for it. The model and the mapping of
inspect documents are imported when the first answers are in: the engine
is asked before. It lists containers through the
low-level API, inspects them concurrently, and adds what only a running host
knows: processes (``top``), the image each tag names now, the image's USER,
dangling volumes and daemon defaults. It never changes the engine: no exec,
no create, no start, no pull.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from dockaudit.sources.contexts import DEFAULT_HOST, Endpoint, TlsFiles

# typing.TYPE_CHECKING, without the import of typing before the first request
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockaudit.model import ContainerSpec, HostInfo, Process

__all__ = ["EngineAudit", "FleetReading", "LiveError", "LiveResult", "audit_fleet", "audit_host", "connect"]

WORKERS = 16
MIN_API_VERSION = "1.24"  # the oldest the SDK speaks; only to ask a TCP engine for its own
SSH_WORKERS = 4  # each connection is an ssh session: stay below sshd's MaxStartups (10)
CONNECT_TIMEOUT = 5.0


class LiveError(Exception):
    """The engine cannot be reached or read (no daemon, wrong address, no permission)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class EngineAudit:
    """One engine of a fleet run: what was read from it, or why it could not be read."""

    endpoint: Endpoint
    result: LiveResult | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class LiveResult:
    """What a live audit read: one spec per container, the host facts, and notes for the user."""

    specs: list[ContainerSpec] = field(default_factory=list)  # containers, less the tasks of `services`
    host: HostInfo = field(default_factory=lambda: _host_info({}, None))
    notes: list[str] = field(default_factory=list)
    services: list[ContainerSpec] = field(default_factory=list)  # Swarm services (on a manager)

    def service_ids(self) -> set[str]:
        return {s.container.id for s in self.services if s.container is not None}


def _without_orphan_tasks(specs: list[ContainerSpec], result: LiveResult) -> list[ContainerSpec]:
    """Task containers of a service that was removed while the engine was read are being removed too:
    a note says so, and they are not reported as containers of their own."""
    from dockaudit.sources.swarm import task_service_id

    kept = []
    for spec in specs:
        service_id = task_service_id(spec)
        if service_id is None:
            kept.append(spec)
            continue
        result.notes.append(f"container {spec.name} is a task of service {service_id[:12]}, "
                            "which was removed while it was being read; skipped")
    return kept


def connect(host: str | Endpoint | None, timeout: float = 10.0) -> Any:
    """A docker SDK client for *host* (else ``DOCKER_HOST``/the local socket), checked with a ping.

    For an address, TLS settings come from the environment (``DOCKER_TLS_VERIFY``,
    ``DOCKER_CERT_PATH``) as for the docker CLI; an `Endpoint` read from a context
    brings its own.
    Raises `LiveError` within about five seconds when the engine does not answer.
    """
    import docker
    import docker.errors
    import requests.exceptions

    endpoint = host if isinstance(host, Endpoint) else None
    environment = dict(os.environ)
    if isinstance(host, str) and host:
        environment["DOCKER_HOST"] = host
    if endpoint is not None:
        environment["DOCKER_HOST"] = endpoint.host
    address = environment.get("DOCKER_HOST") or "the local socket (unix:///var/run/docker.sock)"
    connect_timeout = min(CONNECT_TIMEOUT, timeout) if timeout > 0 else CONNECT_TIMEOUT
    # Over TCP, requests would let REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace the engine's CA given
    # here: the client ignores the environment, and asks the engine's API version itself.
    tcp = address.startswith(("tcp://", "https://"))
    version = MIN_API_VERSION if tcp else None
    try:
        if endpoint is not None and not endpoint.from_environment:
            client = docker.DockerClient(base_url=endpoint.host, tls=_tls_config(endpoint.tls), version=version,
                                         timeout=connect_timeout, max_pool_size=WORKERS)
        else:
            client = docker.from_env(environment=environment, timeout=connect_timeout, version=version,
                                     max_pool_size=WORKERS, use_ssh_client=False)
        if tcp:
            client.api.trust_env = False
            client.api._version = client.api.version(api_version=False)["ApiVersion"]
        client.api.ping()
    except docker.errors.TLSParameterError as exc:
        raise LiveError(f"cannot use the TLS settings for {address}: {exc}") from None
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError, KeyError,
            TypeError) as exc:
        raise LiveError(f"cannot connect to the Docker engine at {address}: {_reason(exc)}") from None
    client.api.timeout = max(timeout, connect_timeout)
    return client


def _tls_config(files: TlsFiles | None) -> Any:
    """The SDK's TLS settings for a context's material (False: plain TCP)."""
    if files is None:
        return False
    from docker.tls import TLSConfig

    client_cert = (files.cert, files.key) if files.cert and files.key else None
    return TLSConfig(client_cert=client_cert, ca_cert=files.ca if files.verify else None, verify=files.verify)


def _ssh_relay(address: str) -> Any:
    from dockaudit.sources.ssh import SshRelay

    try:
        return SshRelay(address)
    except (OSError, ValueError) as exc:
        raise LiveError(f"cannot connect to the Docker engine at {address}: {exc}") from None


def _through_relay(exc: LiveError, relay: Any, remote: str) -> LiveError:
    """*exc*, or for an engine behind ssh what the ssh client said (and the relay closed)."""
    if relay is None:
        return exc
    reason = relay.reason()
    relay.close()
    return LiveError(f"cannot connect to the Docker engine at {remote}: {reason}" if reason else exc.message)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Permission denied", "No such file or directory", "Connection refused",
                   "timed out", "Name or service not known"):
        if marker.lower() in text.lower():
            return marker.lower()
    return text.splitlines()[0] if text else type(exc).__name__


def audit_host(
    host: str | Endpoint | None,
    *,
    all: bool = True,
    names: list[str] | None = None,
    labels: list[str] | None = None,
    timeout: float = 10.0,
    processes: bool = True,
) -> LiveResult:
    """Read the containers of *host* (running ones, or every one with *all*).

    *names* and *labels* filter as ``docker ps --filter name=…/label=…`` does
    (a name matches as a substring; every label must match). *processes*
    reads ``top`` for running containers. Raises `LiveError` when the engine
    cannot be reached or listed.
    """
    address = (host.host if isinstance(host, Endpoint) else host) or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    relay = None
    workers = WORKERS
    remote = address
    if remote.startswith("ssh://"):
        relay, workers = _ssh_relay(remote), SSH_WORKERS
        host = Endpoint(remote, relay.url, from_environment=False)
        address = relay.url
    try:
        reader = _open_reader(host, address, timeout)
    except LiveError as exc:
        raise _through_relay(exc, relay, remote) from None
    filters: dict[str, list[str]] = {}
    if names:
        filters["name"] = list(names)
    if labels:
        filters["label"] = list(labels)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            listing = pool.submit(reader.containers, all, filters)
            info = pool.submit(reader.info)
            images = pool.submit(reader.images)
            dangling = pool.submit(reader.dangling_volumes)
            # services: only a Swarm manager has them (any other engine answers 503)
            services = pool.submit(reader.services, filters)
            # container: modes name their target by id; the target may be outside the filter
            everyone = pool.submit(reader.containers, True, {}) if filters or not all else listing
            try:
                reader.check(address)  # asked beside the first reads, not before them
            except LiveError as exc:
                reader.close()  # what the pool is still reading fails at once
                pool.shutdown(wait=True, cancel_futures=True)
                raise _through_relay(exc, relay, remote) from None
            summaries = listing.result()
            image_ids = sorted({s.get("ImageID") for s in summaries if isinstance(s.get("ImageID"), str)})
            image_reads = [pool.submit(reader.inspect_image, i) for i in image_ids]
            lock = threading.Lock()
            context: list[_SpecBuilder] = []

            def builder() -> _SpecBuilder:
                """What every spec is built against, once it is read. The containers are inspected
                meanwhile: the reads it waits for were queued before theirs, so they are under way."""
                with lock:
                    if not context:
                        info_doc = _dict(info.result())
                        image_docs = dict(zip(image_ids, (f.result() for f in image_reads), strict=True))
                        context.append(_SpecBuilder(_host_info(info_doc, dangling.result()),
                                                    dict(_all_names(everyone.result())), image_docs,
                                                    _tag_index(images.result()), info_doc))
                    return context[0]

            ids = [s["Id"] for s in summaries if isinstance(s.get("Id"), str)]
            broken = threading.Event()  # once the engine fails to answer, the other reads stop at once
            # each reader builds the spec of what it read while the others wait for the engine
            built = list(pool.map(lambda i: builder().spec(*_guarded_inspect(reader, i, processes, broken)), ids))
            host_info = builder().host
            service_docs = [s for s in services.result() or [] if isinstance(s, dict)]
            network_names = {n["Id"]: n["Name"] for n in (reader.networks() if service_docs else [])
                             if isinstance(n, dict) and isinstance(n.get("Id"), str) and isinstance(n.get("Name"), str)}
    except (OSError, _ReadFailed) as exc:
        raise LiveError(f"reading the engine failed: {_reason(exc)}") from None
    finally:
        reader.close()
        if relay is not None:
            relay.close()

    result = LiveResult()  # not before the first requests: its default host facts import the model
    for container_id, (spec, problem) in zip(ids, built, strict=True):
        if spec is None:
            result.notes.append(f"container {container_id[:12]} {problem}; skipped")
            continue
        result.specs.append(spec)
    result.specs.sort(key=lambda s: (s.name or "", s.container.id if s.container else ""))
    if service_docs:
        from dockaudit.sources.swarm import drop_tasks, spec_from_service

        result.services = sorted((spec_from_service(doc, network_names) for doc in service_docs),
                                 key=lambda s: (s.name or "", s.container.id if s.container else ""))
        result.specs = _without_orphan_tasks(drop_tasks(result.specs, result.service_ids()), result)
    result.host = host_info
    return result


class _SpecBuilder:
    """What every container of one engine is read against: host facts, names, images, tags."""

    def __init__(self, host: HostInfo, names: dict[str, str], images: dict[str, Any], tags: dict[str, str],
                 info: dict) -> None:
        self.host, self.names, self.images, self.tags, self.info = host, names, images, tags, info

    def spec(self, doc: dict | None, top: tuple[Process, ...] | None,
             problem: str) -> tuple[ContainerSpec | None, str]:
        from dockaudit.sources.inspect import spec_from_inspect

        if doc is None:
            return None, problem
        image = doc.get("Image")
        hostname = self.info.get("Name")
        return spec_from_inspect(doc, self.host, names=self.names,
                                 image=self.images.get(image) if isinstance(image, str) else None,
                                 daemon_hostname=hostname if isinstance(hostname, str) else None,
                                 processes=top,
                                 tag_image_id=self.tags.get(_tag_key(_dict(doc.get("Config")).get("Image")))), ""


def audit_fleet(endpoints: list[Endpoint], **options: Any) -> list[EngineAudit]:
    """`audit_host` on every endpoint at once; an engine that fails is an `EngineAudit` with an error.

    The engines are read in parallel, each with its own pool of readers, so a
    fleet takes about as long as its slowest engine.
    """

    def one(endpoint: Endpoint) -> EngineAudit:
        started = time.perf_counter()
        try:
            result = audit_host(endpoint, **options)
        except LiveError as exc:
            return EngineAudit(endpoint, error=exc.message, seconds=time.perf_counter() - started)
        except Exception as exc:  # one engine's surprise must not lose the other engines
            return EngineAudit(endpoint, error=f"internal error: {type(exc).__name__}: {exc}",
                               seconds=time.perf_counter() - started)
        return EngineAudit(endpoint, result=result, seconds=time.perf_counter() - started)

    if len(endpoints) <= 1:
        audits = [one(endpoint) for endpoint in endpoints]
    else:
        with ThreadPoolExecutor(max_workers=len(endpoints)) as pool:
            audits = list(pool.map(one, endpoints))
    # a task runs on a worker of the Swarm whose manager is in the run: it is reported under its service
    service_ids = {i for a in audits if a.result is not None for i in a.result.service_ids()}
    if service_ids:
        from dockaudit.sources.swarm import drop_tasks

        for audit in audits:
            if audit.result is not None:
                audit.result.specs = drop_tasks(audit.result.specs, service_ids)
    return audits


class FleetReading:
    """`audit_fleet` under way in a thread of its own from the moment it is made; `result` waits for it.

    ``dockaudit live`` makes it before it loads its rules, configuration and
    report writers, so that all of that is done while the engines answer.
    (Checking each container as soon as it is read, beside the readers, cost
    a fleet of 1,000 containers a fifth more CPU: the checks and 64 readers
    took the interpreter's lock from each other all along.)
    """

    def __init__(self, endpoints: list[Endpoint], **options: Any) -> None:
        self._audits: list[EngineAudit] = []
        self._error: BaseException | None = None
        # a daemon: a run that fails meanwhile (a bad configuration) does not wait for the engines
        self._thread = threading.Thread(target=self._read, args=(endpoints, options), name="dockaudit-live",
                                        daemon=True)
        self._thread.start()

    def _read(self, endpoints: list[Endpoint], options: dict[str, Any]) -> None:
        try:
            self._audits = audit_fleet(endpoints, **options)
        except BaseException as exc:  # raised in the thread that asks for the result
            self._error = exc

    def result(self) -> list[EngineAudit]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._audits


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


class _ReadFailed(Exception):
    """The engine answered a read every audit needs (the container list, info) with an error."""


class _SdkReader:
    """Reads through the SDK: any transport it knows (TCP, TLS). Its errors become ours."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def check(self, address: str) -> None:
        """Nothing more to check: `connect` had the engine answer a ping."""

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, Any]:
        import docker.errors
        import requests.exceptions

        try:
            return 200, method(*args, **kwargs)
        except docker.errors.APIError as exc:
            return exc.status_code or 500, {"message": str(exc.explanation or exc)}
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise OSError(_reason(exc)) from None

    def _needed(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        status, answer = self._call(method, *args, **kwargs)
        if status != 200:
            raise _ReadFailed(_dict(answer).get("message") or f"status {status}")
        return answer

    def _optional(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        status, answer = self._call(method, *args, **kwargs)
        return answer if status == 200 else None

    def containers(self, all: bool, filters: dict[str, list[str]]) -> list:
        return self._needed(self.api.containers, all=all, filters=filters or None)

    def info(self) -> Any:
        return self._needed(self.api.info)

    def images(self) -> Any:
        return self._needed(self.api.images)

    def dangling_volumes(self) -> Any:
        return self._needed(self.api.volumes, filters={"dangling": True})

    def services(self, filters: dict[str, list[str]]) -> Any:
        return self._optional(self.api.services, filters=filters or None)

    def networks(self) -> Any:
        return self._needed(self.api.networks)

    def inspect_image(self, image_id: str) -> Any:
        return self._optional(self.api.inspect_image, image_id)

    def inspect(self, container_id: str) -> tuple[int, Any]:
        return self._call(self.api.inspect_container, container_id)

    def top(self, container_id: str) -> tuple[int, Any]:
        return self._call(self.api.top, container_id)

    def close(self) -> None:
        self.api.close()


class _SocketReader:
    """Reads as plain HTTP/1.1 GETs on the engine's Unix socket, one kept-alive connection per thread.

    The SDK costs a tenth of a second to import and ``requests`` about a
    millisecond a call; even ``http.client`` spends a quarter of a millisecond
    a call parsing headers, more than the JSON takes. An audit of hundreds
    of containers is mostly those calls: on a Unix socket (local engines, and
    those behind ssh) the engine's answers are read by `_UnixHttp`, five
    times cheaper, and ``dockaudit live`` does not import the SDK.
    """

    def __init__(self, path: str, timeout: float, connect_timeout: float) -> None:
        self.path, self.timeout, self.connect_timeout = path, timeout, connect_timeout
        self._local = threading.local()
        self._connections: list[_UnixHttp] = []
        self._lock = threading.Lock()
        self._closed = False

    def check(self, address: str) -> None:
        """Whether the engine answers ``/_ping`` within the connect timeout: `LiveError` when not.

        No API version is negotiated: the paths carry none, and the engine
        answers them in its own (what ``/version`` would have given).
        """
        conn = self._register(_UnixHttp(self.path, self.connect_timeout))
        try:
            status, body = conn.get("/_ping")
        except OSError as exc:
            raise LiveError(f"cannot connect to the Docker engine at {address}: {_reason(exc)}") from None
        finally:
            conn.close()
        if status != 200:
            answer = _dict(_json_or_message(body))
            raise LiveError(f"cannot connect to the Docker engine at {address}: "
                            f"{answer.get('message') or f'status {status}'}")

    def _register(self, conn: _UnixHttp) -> _UnixHttp:
        with self._lock:
            if self._closed:
                raise ConnectionAbortedError("the reader is closed")
            self._connections.append(conn)
        return conn

    def _connection(self) -> _UnixHttp:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._register(_UnixHttp(self.path, self.timeout))
        return conn

    def _request(self, url: str) -> tuple[int, Any]:
        for attempt in (1, 2):
            conn = self._connection()
            try:
                status, body = conn.get(url)
                break
            except OSError as exc:
                conn.close()
                self._local.conn = None
                # a kept-alive connection the engine closed is opened again; no answer in time is final
                if attempt == 2 or isinstance(exc, TimeoutError) or not conn.reused:
                    raise
        return status, _json_or_message(body)

    def _get(self, url: str, **params: Any) -> tuple[int, Any]:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return self._request(url + (f"?{query}" if query else ""))

    def _needed(self, url: str, **params: Any) -> Any:
        status, answer = self._get(url, **params)
        if status != 200:
            raise _ReadFailed(_dict(answer).get("message") or f"status {status}")
        return answer

    def containers(self, all: bool, filters: dict[str, list[str]]) -> Any:
        return self._needed("/containers/json", all=1 if all else None,
                            filters=json.dumps(filters) if filters else None)

    def info(self) -> Any:
        return self._needed("/info")

    def images(self) -> Any:
        return self._needed("/images/json")

    def dangling_volumes(self) -> Any:
        return self._needed("/volumes", filters=json.dumps({"dangling": ["true"]}))

    def services(self, filters: dict[str, list[str]]) -> Any:
        status, answer = self._get("/services", filters=json.dumps(filters) if filters else None)
        return answer if status == 200 else None

    def networks(self) -> Any:
        return self._needed("/networks")

    def inspect_image(self, image_id: str) -> Any:
        status, answer = self._get(f"/images/{quote(image_id, safe='')}/json")
        return answer if status == 200 else None

    def inspect(self, container_id: str) -> tuple[int, Any]:
        return self._get(f"/containers/{quote(container_id, safe='')}/json")

    def top(self, container_id: str) -> tuple[int, Any]:
        return self._get(f"/containers/{quote(container_id, safe='')}/top")

    def close(self) -> None:
        """Close every connection; a read still waiting on one fails at once, and no new one opens."""
        with self._lock:
            self._closed = True
            for conn in self._connections:
                conn.close(wake=True)


def _json_or_message(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return {"message": body[:200].decode(errors="replace")}


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)")
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r]*chunked")
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close")


class _UnixHttp:
    """One kept-alive HTTP/1.1 connection to a Unix socket, for GETs of the Engine API only.

    It reads what the engine sends: a status line, headers, and a body framed
    by Content-Length or chunked encoding. Anything else is an `OSError`.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.position = 0  # what of the buffer was read
        self.reused = False  # an answer came on it already: the engine may have closed it since

    def _open(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self.sock, self.buffer, self.position, self.reused = sock, bytearray(), 0, False
        return sock

    def _fill(self) -> None:
        sock = self.sock
        if sock is None:  # closed by another thread
            raise ConnectionAbortedError("the connection was closed")
        if self.position:  # drop what was read, once, rather than at every line
            del self.buffer[:self.position]
            self.position = 0
        data = sock.recv(262144)
        if not data:
            raise ConnectionResetError("the engine closed the connection")
        self.buffer += data

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n", self.position)) < 0:
            self._fill()
        line = bytes(self.buffer[self.position:end])
        self.position = end + 2
        return line

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) - self.position < size:
            self._fill()
        data = bytes(self.buffer[self.position:self.position + size])
        self.position += size
        return data

    def get(self, url: str) -> tuple[int, bytes]:
        sock = self.sock or self._open()
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: docker\r\n\r\n" % url.encode())
        try:
            while (end := self.buffer.find(b"\r\n\r\n", self.position)) < 0:
                self._fill()
            head = bytes(self.buffer[self.position:end]).lower()
            self.position = end + 4
            status = int(head.split(b" ", 2)[1])
            found = _CONTENT_LENGTH.search(head)
            length = int(found.group(1)) if found else None
            chunked = _CHUNKED.search(head) is not None
            close = _CLOSE.search(head) is not None
            if chunked:
                parts = []
                while size := int(self._line().split(b";", 1)[0], 16):
                    parts.append(self._exactly(size))
                    self._exactly(2)
                while self._line():  # trailers, up to the empty line
                    pass
                body = b"".join(parts)
            elif length is not None:
                body = self._exactly(length)
            elif status in (204, 304) or 100 <= status < 200:
                body = b""
            else:  # no framing: the body runs to the end of the connection
                while True:
                    try:
                        self._fill()
                    except ConnectionResetError:
                        break
                body, close = bytes(self.buffer[self.position:]), True
        except (ValueError, IndexError):
            raise ConnectionError("the engine's answer is not HTTP/1.1") from None
        if close:
            self.close()
        else:
            self.reused = True
        return status, body

    def close(self, wake: bool = False) -> None:
        """Close the connection; with *wake*, a read another thread is blocked in returns first."""
        sock, self.sock = self.sock, None
        if sock is not None:
            if wake:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            sock.close()


def _open_reader(host: str | Endpoint | None, address: str, timeout: float) -> _SdkReader | _SocketReader:
    """A reader of the engine at *address*: plain HTTP on a Unix socket (checked beside its first
    reads), else the SDK (checked now)."""
    if address.startswith("unix://"):
        connect_timeout = min(CONNECT_TIMEOUT, timeout) if timeout > 0 else CONNECT_TIMEOUT
        return _SocketReader(address[len("unix://"):], max(timeout, connect_timeout), connect_timeout)
    return _SdkReader(connect(host, timeout).api)


def _guarded_inspect(reader: _SdkReader | _SocketReader, container_id: str, processes: bool,
                     broken: threading.Event) -> tuple[dict | None, tuple[Process, ...] | None, str]:
    """`_inspect`, unless the engine already failed to answer: a transport failure sets *broken*
    and is raised, and with *broken* set nothing more is asked (no wait for a timeout per container)."""
    if broken.is_set():
        raise OSError("the engine stopped answering")
    try:
        return _inspect(reader, container_id, processes)
    except BaseException:
        broken.set()
        raise


def _inspect(reader: _SdkReader | _SocketReader, container_id: str,
             processes: bool) -> tuple[dict | None, tuple[Process, ...] | None, str]:
    """(inspect document, top processes, why not) for one container."""
    status, doc = reader.inspect(container_id)
    if status == 404:
        return None, None, "was removed while it was being read"
    if status != 200 or not isinstance(doc, dict):
        reason = _dict(doc).get("message") or f"status {status}"
        return None, None, f"could not be inspected ({reason})"
    top = None
    if processes and _dict(doc.get("State")).get("Running") is True:
        status, answer = reader.top(container_id)
        top = _processes(answer) if status == 200 else None  # stopped in between, or paused
    return doc, top, ""


def _processes(answer: Any) -> tuple[Process, ...] | None:
    """``top`` rows as `Process`es (columns found by title: PID, UID/USER, CMD/COMMAND)."""
    from dockaudit.model import Process

    answer = _dict(answer)
    titles = [t.upper() if isinstance(t, str) else "" for t in answer.get("Titles") or []]

    def column(*candidates: str) -> int | None:
        return next((titles.index(c) for c in candidates if c in titles), None)

    pid, user, cmd = column("PID"), column("UID", "USER"), column("CMD", "COMMAND", "ARGS")
    if pid is None or cmd is None:
        return None
    rows = []
    for row in answer.get("Processes") or []:
        if not isinstance(row, list) or len(row) <= max(pid, cmd, user or 0):
            continue
        rows.append(Process(pid=str(row[pid]), user=str(row[user]) if user is not None else "",
                            command=str(row[cmd])))
    return tuple(rows)


def _tag_key(reference: Any) -> str | None:
    """A reference as ``images`` lists its RepoTags: ``nginx:latest``, ``registry:5000/x:1``."""
    if not isinstance(reference, str) or not reference or "@" in reference:
        return None
    name = reference
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if name.startswith("library/") and name.count("/") == 1:
        name = name[len("library/"):]
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def _tag_index(images: Any) -> dict[str, str]:
    index: dict[str, str] = {}
    for image in images if isinstance(images, list) else []:
        image = _dict(image)
        image_id = image.get("Id")
        if not isinstance(image_id, str):
            continue
        for tag in image.get("RepoTags") or []:
            key = _tag_key(tag)
            if key is not None and key != "<none>:<none>":
                index[key] = image_id
    return index


def _all_names(summaries: Iterable[dict]) -> Iterable[tuple[str, str]]:
    for summary in summaries:
        names = [n.lstrip("/") for n in summary.get("Names") or [] if isinstance(n, str) and n.count("/") == 1]
        if isinstance(summary.get("Id"), str) and names:
            yield summary["Id"], names[0]


def _host_info(info: dict, volumes: Any) -> HostInfo:
    from dockaudit.model import HostInfo

    options = tuple(o for o in info.get("SecurityOptions") or [] if isinstance(o, str))
    dangling = tuple(sorted(
        v["Name"] for v in _dict(volumes).get("Volumes") or []
        if isinstance(v, dict) and isinstance(v.get("Name"), str)
    ))
    return HostInfo(
        default_log_driver=info.get("LoggingDriver") if isinstance(info.get("LoggingDriver"), str) else None,
        default_log_opts={},  # not reported by the engine
        security_options=options,
        storage_driver=info.get("Driver") if isinstance(info.get("Driver"), str) else None,
        no_new_privileges=False,  # the daemon's --no-new-privileges is not reported either
        dangling_volumes=dangling,
        volumes_read=isinstance(volumes, dict),
    )
