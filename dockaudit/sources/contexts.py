"""The engines a live audit reads: ``-H`` addresses and the Docker CLI's contexts.

Contexts are read from the CLI's own store, as ``docker context ls`` shows
them: ``$DOCKER_CONFIG`` (else ``~/.docker``) holds ``config.json`` (the
current context) and ``contexts/meta/<sha256 of the name>/meta.json`` (the
docker endpoint: host, skip-TLS-verify), with the TLS material of a context
under ``contexts/tls/<sha256 of the name>/docker/`` (``ca.pem``, ``cert.pem``,
``key.pem``). The ``default`` context is not stored: it is ``DOCKER_HOST``, or
the local socket. Nothing here talks to an engine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "unix:///var/run/docker.sock"
DEFAULT_CONTEXT = "default"


class ContextError(Exception):
    """A context that is not in the store or cannot be read."""


@dataclass(frozen=True)
class TlsFiles:
    """TLS material for an engine: paths of the files that exist, and whether to verify the server."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True


@dataclass(frozen=True)
class Endpoint:
    """One engine to audit: the name findings carry, its address, and how to reach it.

    ``tls`` None means: the TLS settings of the environment (``DOCKER_TLS_VERIFY``,
    ``DOCKER_CERT_PATH``) apply, as they do for ``docker -H``.
    """

    name: str
    host: str
    tls: TlsFiles | None = None
    from_environment: bool = True


def config_dir(environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    configured = environ.get("DOCKER_CONFIG")
    return Path(configured) if configured else Path.home() / ".docker"


def _digest(name: str) -> str:
    import hashlib  # only when contexts are read: not at every start of dockaudit live

    return hashlib.sha256(name.encode()).hexdigest()


def default_endpoint(environ: dict[str, str] | None = None) -> Endpoint:
    """The ``default`` context: ``DOCKER_HOST`` with the environment's TLS, else the local socket."""
    environ = os.environ if environ is None else environ
    return Endpoint(DEFAULT_CONTEXT, environ.get("DOCKER_HOST") or DEFAULT_HOST)


def context_names(environ: dict[str, str] | None = None) -> list[str]:
    """Every context, ``default`` first then the stored ones by name, as ``docker context ls`` lists them."""
    meta = config_dir(environ) / "contexts" / "meta"
    names = []
    try:
        folders = sorted(meta.iterdir())
    except OSError:
        folders = []
    for folder in folders:
        try:
            doc = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        name = doc.get("Name") if isinstance(doc, dict) else None
        if isinstance(name, str) and name and name != DEFAULT_CONTEXT and _digest(name) == folder.name:
            names.append(name)
    return [DEFAULT_CONTEXT, *sorted(names)]


def context_endpoint(name: str, environ: dict[str, str] | None = None) -> Endpoint:
    """The docker endpoint of context *name*; raises `ContextError` when it is not in the store."""
    if name == DEFAULT_CONTEXT:
        return default_endpoint(environ)
    root = config_dir(environ) / "contexts"
    path = root / "meta" / _digest(name) / "meta.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContextError(f"context {name!r} does not exist (see docker context ls)") from None
    except (OSError, ValueError) as exc:
        raise ContextError(f"context {name!r} cannot be read from {path}: {exc}") from None
    endpoints = doc.get("Endpoints") if isinstance(doc, dict) else None
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    host = docker.get("Host") if isinstance(docker, dict) else None
    if not isinstance(host, str) or not host:
        raise ContextError(f"context {name!r} has no docker endpoint")
    tls_dir = root / "tls" / _digest(name) / "docker"
    files = {stem: str(tls_dir / f"{stem}.pem") for stem in ("ca", "cert", "key") if (tls_dir / f"{stem}.pem").is_file()}
    tls = None
    if files:
        tls = TlsFiles(ca=files.get("ca"), cert=files.get("cert"), key=files.get("key"),
                       verify=not bool(docker.get("SkipTLSVerify")))
    elif docker.get("SkipTLSVerify") and host.startswith("tcp://"):
        tls = TlsFiles(verify=False)
    return Endpoint(name, host, tls, from_environment=False)


def current_context(environ: dict[str, str] | None = None) -> str:
    """The context the docker CLI uses now: ``DOCKER_CONTEXT``, else config.json's currentContext."""
    environ = os.environ if environ is None else environ
    if environ.get("DOCKER_CONTEXT"):
        return environ["DOCKER_CONTEXT"]
    try:
        doc = json.loads((config_dir(environ) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return DEFAULT_CONTEXT
    current = doc.get("currentContext") if isinstance(doc, dict) else None
    return current if isinstance(current, str) and current else DEFAULT_CONTEXT


def resolve_endpoints(
    hosts: list[str],
    contexts: list[str],
    all_contexts: bool,
    environ: dict[str, str] | None = None,
) -> tuple[list[Endpoint], list[tuple[str, str]]]:
    """The engines a run audits, once each, and (context name, problem) for contexts not usable.

    With none asked for, the engine the docker CLI would use: ``DOCKER_HOST``,
    else the current context, else the local socket.
    """
    environ = os.environ if environ is None else environ
    problems: list[tuple[str, str]] = []
    endpoints: list[Endpoint] = [Endpoint(host, host) for host in hosts]
    names = list(contexts)
    if all_contexts:
        names.extend(context_names(environ))
    if not hosts and not names:
        if environ.get("DOCKER_HOST"):
            return [default_endpoint(environ)], problems
        names = [current_context(environ)]
    for name in dict.fromkeys(names):
        try:
            endpoints.append(context_endpoint(name, environ))
        except ContextError as exc:
            problems.append((name, str(exc)))
    unique: dict[str, Endpoint] = {}
    for endpoint in endpoints:  # one engine named twice is read once, under its first name
        unique.setdefault(endpoint.host, endpoint)
    return list(unique.values()), problems
