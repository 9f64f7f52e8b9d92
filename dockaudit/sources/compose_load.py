"""Reading a Compose file: YAML with positions, limits, merge keys, and ``${VAR}`` interpolation.

The YAML is composed into nodes (PyYAML's node API keeps each key's and
value's line and column) and walked into `YNode` trees. Aliases are expanded
by the walk under a budget, so an alias bomb ("billion laughs") or an alias
that contains itself is a message, not a hang. Merge keys (``<<: *base``)
are applied as YAML 1.1 defines them: keys written in the mapping win.

Interpolation follows Compose: ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?err}``, ``${VAR?err}``, ``${VAR:+alt}`` and ``$$``
for a literal ``$``. Values come from the ``.env`` file beside the Compose
file, never from the environment dockaudit runs in (the result must not
depend on who runs it). A variable with no value and no default is not
knowable: its part of the value becomes `SENTINEL`, as in scripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dockaudit.model import Location
from dockaudit.values import SENTINEL

MAX_BYTES = 2 * 1024 * 1024  # far above any real Compose file (the corpus's largest is ~40 KB)
MAX_NODES = 200_000  # nodes after alias expansion
MAX_VALUE = 65_536  # characters of one interpolated value


class ComposeError(Exception):
    """A Compose file that cannot be read: the message says why and where."""


@dataclass(slots=True)
class YNode:
    """A YAML value with where it is written; a mapping also knows where each key is."""

    value: Any  # dict[str, YNode] | list[YNode] | str | int | float | bool | None
    loc: Location
    key_loc: Location | None = None  # the key this value belongs to, inside a mapping

    @property
    def where(self) -> Location:
        """The key when there is one (``privileged: true`` points at ``privileged``), else the value."""
        return self.key_loc or self.loc

    def get(self, key: str) -> YNode | None:
        return self.value.get(key) if isinstance(self.value, dict) else None


def _loc(path: str, node: Any) -> Location:
    start, end = node.start_mark, node.end_mark
    return Location(path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Walker:
    def __init__(self, path: str) -> None:
        import yaml

        self.path = path
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()
        self.active: set[int] = set()
        self.yaml = yaml

    def scalar(self, node: Any) -> Any:
        tag = node.tag
        construct = self.constructor.yaml_constructors.get(tag)
        if construct is None or tag == _TIMESTAMP or not tag.startswith("tag:yaml.org,2002:"):
            return node.value  # custom tags (!reset …) and dates: the text as written
        try:
            return construct(self.constructor, node)
        except (ValueError, self.yaml.YAMLError):
            return node.value

    def walk(self, node: Any, key_loc: Location | None = None) -> YNode:
        self.count += 1
        if self.count > MAX_NODES:
            raise ComposeError(
                f"{self.path}: more than {MAX_NODES} values once aliases are expanded (an alias bomb?); not read")
        ident = id(node)
        if ident in self.active:
            line = node.start_mark.line + 1
            raise ComposeError(f"{self.path}: line {line}: an alias refers to a node that contains it; not read")
        loc = _loc(self.path, node)
        yaml = self.yaml
        if isinstance(node, yaml.ScalarNode):
            return YNode(self.scalar(node), loc, key_loc)
        self.active.add(ident)
        try:
            if isinstance(node, yaml.SequenceNode):
                return YNode([self.walk(item) for item in node.value], loc, key_loc)
            mapping: dict[str, YNode] = {}
            merged: dict[str, YNode] = {}
            for key_node, value_node in node.value:
                key_where = _loc(self.path, key_node)
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
                    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                    for source in sources:
                        walked = self.walk(source)
                        if not isinstance(walked.value, dict):
                            raise ComposeError(f"{self.path}: line {key_where.line}: a merge key (<<) must name a mapping")
                        for k, v in walked.value.items():
                            merged.setdefault(k, v)  # the first merged mapping wins
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ComposeError(f"{self.path}: line {key_where.line}: a key must be a plain value, not a list or mapping")
                key = str(self.scalar(key_node))
                mapping[key] = self.walk(value_node, key_where)
            for k, v in merged.items():
                mapping.setdefault(k, v)
            return YNode(mapping, loc, key_loc)
        finally:
            self.active.discard(ident)


def load_yaml(text: str, path: str) -> YNode | None:
    """The document of a Compose file as a `YNode` tree (None for an empty file)."""
    import yaml

    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise ComposeError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB; not read as a Compose file")
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ComposeError(f"{path}: invalid YAML: {where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ComposeError(f"{path}: invalid YAML: {exc}") from None
    except RecursionError:
        raise ComposeError(f"{path}: nested too deeply to read") from None
    if node is None:
        return None
    try:
        return _Walker(path).walk(node)
    except RecursionError:
        raise ComposeError(f"{path}: nested too deeply to read") from None


# --- interpolation ------------------------------------------------------------------------

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")


@dataclass(frozen=True, slots=True)
class Interpolated:
    """A value after interpolation: the text with `SENTINEL` for each unknown part."""

    text: str
    expansions: tuple[str, ...] = ()  # the source text of each unknown part, in order
    error: str | None = None  # what Compose would refuse (an unterminated ``${``)

    @property
    def known(self) -> bool:
        return SENTINEL not in self.text


class Variables:
    """The values interpolation may use: the ``.env`` file beside the Compose file."""

    def __init__(self, raw: dict[str, tuple[str, int]] | None = None, path: str = ".env") -> None:
        self.raw = raw or {}  # name -> (value as written, line)
        self.path = path
        self.values: dict[str, Interpolated] = {}
        self.resolving: list[str] = []

    def lookup(self, name: str) -> Interpolated | None:
        if name in self.values:
            return self.values[name]
        if name not in self.raw:
            return None
        if name in self.resolving:
            chain = " -> ".join([*self.resolving[self.resolving.index(name):], name])
            raise ComposeError(f"{self.path}: interpolation loop: {chain}")
        self.resolving.append(name)
        try:
            value = interpolate(self.raw[name][0], self)
        finally:
            self.resolving.pop()
        self.values[name] = value
        return value


def read_env_file(text: str, path: str) -> Variables:
    """``KEY=VALUE`` lines as Compose reads a ``.env`` file (quotes removed, ``export`` allowed)."""
    raw: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            quote, value = value[0], value[1:-1]
            if quote == "'":
                value = value.replace("$", "$$")  # single quotes: no interpolation
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        raw[key] = (value, number)
    return Variables(raw, path)


def interpolate(text: str, variables: Variables, depth: int = 0) -> Interpolated:
    """*text* with its variables replaced; unknown ones become `SENTINEL`."""
    if "$" not in text:
        return Interpolated(text)
    if depth > 20:
        raise ComposeError("interpolation nested more than 20 levels deep")
    out: list[str] = []
    expansions: list[str] = []
    error: str | None = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = _closing_brace(text, i + 2)
            if end < 0:
                error = f"invalid interpolation format: {text[i:]!r} has no closing brace"
                out.append(SENTINEL)
                expansions.append(text[i:])
                break
            body = text[i + 2:end]
            value = _braced(body, variables, depth)
            source = text[i:end + 1]
            i = end + 1
        else:
            match = _NAME.match(text, i + 1)
            if match is None:
                out.append("$")  # a lone $ is kept, as Compose does
                i += 1
                continue
            value = variables.lookup(match.group())
            source = match.group(0)
            i = match.end()
        if value is None or not value.known:
            out.append(SENTINEL)
            expansions.append(source)
        else:
            out.append(value.text)
        if value is not None and value.error and error is None:
            error = value.error
        if sum(len(p) for p in out) > MAX_VALUE:
            raise ComposeError(f"an interpolated value grows beyond {MAX_VALUE} characters")
    return Interpolated("".join(out), tuple(expansions), error)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


def _braced(body: str, variables: Variables, depth: int) -> Interpolated | None:
    """The value of ``${body}``; None when it is not knowable."""
    match = _NAME.match(body)
    if match is None:
        return Interpolated(SENTINEL, (body,), f"invalid interpolation format: ${{{body}}}")
    name, rest = match.group(), body[match.end():]
    value = variables.lookup(name)
    if not rest:
        return value
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        return Interpolated(SENTINEL, (body,), f"invalid interpolation format: ${{{body}}}")
    argument = rest[len(operator):]
    unset = value is None
    empty = value is not None and value.known and value.text == ""
    missing = unset or (operator.startswith(":") and empty)
    if operator in (":-", "-"):
        if value is not None and not value.known:
            return None
        return interpolate(argument, variables, depth + 1) if missing else value
    if operator in (":+", "+"):
        if value is not None and not value.known:
            return None
        return Interpolated("") if missing else interpolate(argument, variables, depth + 1)
    # ?, :? — Compose stops with the message when missing; the variable may come from the
    # environment of whoever runs Compose, so here it is only unknown.
    return None if missing else value
