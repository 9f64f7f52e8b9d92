"""One authorization request in, one decision out.

Judged (``POST`` only, after the API version prefix):

- ``/containers/create``: the body becomes a `ContainerSpec` through the
  inspect mapping and every judged rule that reads containers runs on it;
- ``/containers/{id}/update``: what the body changes (limits, restart
  policy) is laid over a container that has every limit, and the findings
  that change brings are the update's;
- ``/containers/{id}/exec`` with ``Privileged``: read as the ``docker exec
  --privileged`` command it is, by the rules that read commands;
- ``/services/create`` and ``/services/{id}/update``: the whole service spec,
  its task template read as the create body of the containers it will start;
- ``/containers/{id}/start`` with a body: refused, since before API 1.24 such a
  body replaces the settings the container was created (and judged) with.

Everything else is allowed without parsing. Fail-closed: a judged request
whose body cannot be read, an API version outside `API_VERSIONS`, or an
internal error is denied with a message saying so, unless the policy is
fail-open, which is then written in the decision log.
"""

from __future__ import annotations

import base64
import binascii
import json
import datetime as dt
import posixpath
import re
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from dockaudit.config import Config, RuleSettings
from dockaudit.engine import Engine, EngineResult
from dockaudit.enforce.body import UnreadableBody, read_body
from dockaudit.enforce.log import redact
from dockaudit.enforce.service import create_body_of_service
from dockaudit.model import ContainerSpec, Finding
from dockaudit.rulebase import Rule

API_VERSIONS = ((1, 12), (1, 51))  # the request bodies of these engine API versions are known
_VERSIONED = re.compile(r"^/v([^/]*)(/.*)?$")
_ROUTES = (
    (re.compile(r"^/containers/create$"), "create"),
    (re.compile(r"^/containers/(.+)/update$"), "update"),  # names match .* in the engine's routes too
    (re.compile(r"^/containers/(.+)/exec$"), "exec"),
    (re.compile(r"^/containers/(.+)/start$"), "start"),
    (re.compile(r"^/services/create$"), "service-create"),
    (re.compile(r"^/services/(.+)/update$"), "service-update"),
)
# What an update is laid over: a container with every limit and a restart policy.
_LIMITED = {
    "Memory": 256 * 1024 * 1024,
    "NanoCpus": 1_000_000_000,
    "PidsLimit": 512,
    "RestartPolicy": {"Name": "unless-stopped"},
}
MESSAGE_LIMIT = 900  # what `docker: Error response from daemon: …` shows on a line or two


@dataclass(frozen=True)
class Policy:
    """The rules that deny and those only logged, each set in its own rule engine, and the switches.

    A rule that fails while judging is an error of the decision when it is one
    that denies (the request is refused); a logged rule's failure is logged.
    """

    denying: Engine
    logging: Engine
    deny: frozenset[str]
    fail_open: bool = False
    dry_run: bool = False

    @classmethod
    def from_config(cls, rules: Mapping[str, type[Rule]], config: Config, *, dry_run: bool = False) -> Policy:
        settings = config.enforce
        deny = set(settings.deny)
        logged = (set(settings.log) if settings.log is not None
                  else {rule_id for rule_id, rule in rules.items() if config.is_enabled(rule)}) - deny

        def engine(judged: set[str]) -> Engine:
            enabled = {rule_id: replace(config.rules.get(rule_id, RuleSettings()), enabled=rule_id in judged)
                       for rule_id in rules}
            # inline ignores belong to scripts; the request's own labels cannot waive the policy either.
            # A request is a container about to exist, whatever file it came from: judged broadly
            # (profile cis), every rule set on or off above.
            return Engine(rules, replace(config, rules=enabled, inline_ignores=False, profile="cis", purpose=()))

        return cls(engine(deny), engine(logged), frozenset(deny), settings.fail_open, dry_run)


@dataclass(frozen=True)
class Decision:
    allow: bool
    message: str = ""
    record: dict[str, Any] | None = None  # the decision log entry; None when the request was not judged


@dataclass(frozen=True)
class _Judged:
    kind: str
    container: str | None
    image: str | None
    findings: list[Finding]
    errors: list[str]  # failures of logged rules


class _Refused(Exception):
    """A judged request that cannot be judged (fail-closed)."""


def route(method: Any, uri: Any) -> tuple[str, str | None, str, dict[str, list[str]]] | None:
    """(kind, container id, API version, query) of a judged request, else None.

    The path is decoded and cleaned the way the engine's router sees it.
    """
    if not isinstance(method, str) or method.upper() != "POST" or not isinstance(uri, str):
        return None
    parts = urlsplit(uri)
    path = posixpath.normpath("/" + unquote(parts.path).lstrip("/"))
    version = ""
    versioned = _VERSIONED.match(path)
    if versioned:
        version, path = versioned.group(1), versioned.group(2) or "/"
    for pattern, kind in _ROUTES:
        match = pattern.match(path)
        if match:
            return kind, (match.group(1) if match.groups() else None), version, parse_qs(parts.query)
    return None


def judge(policy: Policy, request: Mapping[str, Any]) -> Decision:
    """The decision on one ``AuthZReq`` body (already parsed JSON)."""
    started = (time.perf_counter(), time.thread_time())
    if not isinstance(request, Mapping):
        request = {}
    method, uri = request.get("RequestMethod"), request.get("RequestUri")
    if not isinstance(method, str) or not isinstance(uri, str):
        return _error_decision(policy, started, None, "the authorization request names no method and URI")
    try:
        judged_route = route(method, uri)
    except Exception as exc:  # a request the router cannot read is refused
        return _error_decision(policy, started, request, f"cannot read the request URI ({exc})")
    if judged_route is None:
        return Decision(True)
    kind, container, version, query = judged_route
    if kind == "start" and not request.get("RequestBody"):
        return Decision(True)  # a start without a body starts the container as it was created
    try:
        _check_version(version)
        if kind == "start":  # before API 1.24 a start could carry a HostConfig that replaces the created one
            raise _Refused("a start request that carries a HostConfig (API before 1.24) is not judged; "
                           "create the container with those settings instead")
        body = _body(request.get("RequestBody"), service=kind.startswith("service"))
        judged = _judge(policy, kind, container, query, body)
    except (_Refused, UnreadableBody) as exc:
        return _error_decision(policy, started, request, str(exc), kind=kind, container=container)
    except Exception as exc:  # an internal error denies; it never lets a request through
        return _error_decision(policy, started, request, f"internal error: {type(exc).__name__}: {exc}",
                               kind=kind, container=container)
    if judged is None:
        return Decision(True)
    denying = [f for f in judged.findings if f.rule_id in policy.deny]
    record = _record(request, judged.kind, judged.container)
    record["image"] = judged.image
    record["findings"] = [_finding_entry(f, f.rule_id in policy.deny) for f in judged.findings]
    if judged.errors:
        record["errors"] = [redact(error) for error in judged.errors]
    if not denying:
        record["decision"] = "allow"
        return Decision(True, record=_timed(record, started))
    message = denial_message(denying)
    if policy.dry_run:
        record.update(decision="allow", dry_run=True, would_deny=message)
        return Decision(True, record=_timed(record, started))
    record.update(decision="deny", message=message)
    return Decision(False, message, _timed(record, started))


def denial_message(findings: list[Finding]) -> str:
    """What to change, rule by rule, short enough for ``docker: Error response from daemon``."""
    seen: dict[str, str] = {}
    for finding in findings:
        text = finding.fix or finding.message
        seen.setdefault(f"{finding.rule_id} {finding.name}: {text}", finding.rule_id)
    ids = sorted(set(seen.values()))
    parts = " | ".join(seen)
    message = f"dockaudit policy: {parts} (dockaudit explain {ids[0]})"
    if len(message) > MESSAGE_LIMIT:
        message = f"dockaudit policy: {', '.join(ids)} deny this request (dockaudit explain {ids[0]})"
    return message


def _check_version(version: str) -> None:
    if not version:
        return  # no prefix: the engine's own version
    numbers = version.split(".")
    if len(numbers) != 2 or not all(n.isdigit() for n in numbers):
        raise _Refused(f"API version v{version} is not one dockaudit knows")
    if not API_VERSIONS[0] <= (int(numbers[0]), int(numbers[1])) <= API_VERSIONS[1]:
        low, high = (f"{a}.{b}" for a, b in API_VERSIONS)
        raise _Refused(f"API version v{version} is not one dockaudit knows ({low} to {high})")


def _body(encoded: Any, *, service: bool) -> dict[str, Any]:
    if encoded is None or encoded == "":
        raw = b""
    elif isinstance(encoded, str):
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableBody("the request body is not valid base64") from None
    else:
        raise UnreadableBody("the request body is not a base64 string")
    return read_body(raw, service=service)


def _judge(policy: Policy, kind: str, container: str | None, query: dict[str, list[str]],
           body: dict[str, Any]) -> _Judged | None:
    from dockaudit.sources.inspect import spec_from_create_body, spec_from_inspect

    errors: list[str] = []
    if kind in ("create", "service-create", "service-update"):
        if kind == "create":
            _expect_objects(body, "HostConfig", "NetworkingConfig")
            name = (query.get("name") or [""])[0] or None  # the engine reads the first
        else:  # a service update sends the whole new spec: it is judged whole
            name, body = create_body_of_service(body)
        spec = spec_from_create_body(body, name)
        image = body.get("Image") if isinstance(body.get("Image"), str) else None
        return _Judged(kind, name or container, image, _container_findings(policy, spec, errors), errors)
    if kind == "update":
        changes = {key: value for key, value in body.items() if _changes(key, value)}
        before = _container_findings(policy, spec_from_inspect({"Name": container, "HostConfig": _LIMITED}), [])
        after = _container_findings(policy, spec_from_inspect({"Name": container,
                                                               "HostConfig": {**_LIMITED, **changes}}), errors)
        known_before = {(f.rule_id, f.message) for f in before}
        return _Judged(kind, container, None, [f for f in after if (f.rule_id, f.message) not in known_before],
                       errors)
    privileged = body.get("Privileged")
    if privileged is None or privileged is False:
        return None
    if privileged is not True:
        raise UnreadableBody("Privileged is not true or false")
    return _Judged(kind, container, None, _exec_findings(policy, container or "", errors), errors)


def _expect_objects(body: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise UnreadableBody(f"{key} is not a JSON object")


def _changes(key: str, value: Any) -> bool:
    """Whether an update body field changes the container (zero values leave it as it is)."""
    if key == "PidsLimit":
        return value is not None  # 0 and -1 both mean: no limit
    if key == "RestartPolicy":
        return isinstance(value, dict) and bool(value.get("Name"))
    return value not in (None, 0, "", [], {})


def _container_findings(policy: Policy, spec: ContainerSpec, errors: list[str]) -> list[Finding]:
    return _both(policy, lambda engine: engine.check_live([spec], None), errors)


def _exec_findings(policy: Policy, container: str, errors: list[str]) -> list[Finding]:
    from dockaudit.api import read_script

    script = read_script(shlex.join(["docker", "exec", "--privileged", container, "sh"]), "request", kind="shell")
    return _both(policy, lambda engine: engine.check_script(script), errors)


def _both(policy: Policy, check: Callable[[Engine], EngineResult], errors: list[str]) -> list[Finding]:
    """The findings of the denying and the logged rules; a denying rule's failure refuses the request."""
    denying = check(policy.denying)
    if denying.errors:
        raise _Refused("internal error: " + "; ".join(denying.errors))
    logged = check(policy.logging)
    errors.extend(logged.errors)
    return sorted(denying.findings + logged.findings, key=Finding.sort_key)


def _record(request: Mapping[str, Any], kind: str | None, container: str | None) -> dict[str, Any]:
    uri = request.get("RequestUri")
    user = request.get("User")
    return {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "request": {
            "method": request.get("RequestMethod") if isinstance(request.get("RequestMethod"), str) else None,
            "uri": redact(uri) if isinstance(uri, str) else None,
            "kind": kind,
            "user": user if isinstance(user, str) and user else None,
        },
        "container": container,
    }


def _finding_entry(finding: Finding, denies: bool) -> dict[str, Any]:
    return {
        "rule": finding.rule_id,
        "name": finding.name,
        "severity": str(finding.severity),
        "message": redact(finding.message),
        "action": "deny" if denies else "log",
    }


def _timed(record: dict[str, Any], started: tuple[float, float]) -> dict[str, Any]:
    """The wall time of the decision, and the CPU time of its thread (the rest is waiting for a CPU)."""
    record["duration_ms"] = round((time.perf_counter() - started[0]) * 1000, 3)
    record["cpu_ms"] = round((time.thread_time() - started[1]) * 1000, 3)
    return record


def _error_decision(policy: Policy, started: tuple[float, float], request: Mapping[str, Any] | None, reason: str, *,
                    kind: str | None = None, container: str | None = None) -> Decision:
    message = f"dockaudit cannot judge this request, so it is refused: {reason}"
    record = _record(request or {}, kind, container)
    record["error"] = redact(reason)
    if policy.fail_open:
        record.update(decision="allow", fail_open=True)
        return Decision(True, record=_timed(record, started))
    if policy.dry_run:
        record.update(decision="allow", dry_run=True, would_deny=message)
        return Decision(True, record=_timed(record, started))
    record.update(decision="deny", message=message)
    return Decision(False, message, _timed(record, started))


def warm_up(policy: Policy) -> None:
    """Judge one request of each kind, so the first real one does not pay for the imports."""
    samples = (
        ("/containers/create?name=warm-up", {"Image": "busybox", "HostConfig": {}}),
        ("/containers/warm-up/update", {"Memory": 0}),
        ("/containers/warm-up/exec", {"Privileged": True, "Cmd": ["sh"]}),
    )
    for uri, body in samples:
        encoded = base64.b64encode(json.dumps(body).encode()).decode()
        judge(policy, {"RequestMethod": "POST", "RequestUri": uri, "RequestBody": encoded})
