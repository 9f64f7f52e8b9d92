"""Option values in the engine's own terms.

The parsers here follow what the Docker CLI and engine do with a value
(go-units byte sizes, pflag integers, nat port specs, the Linux volume spec
parser, the ``--mount`` CSV reader, ...), so that a script and a live container
give the same `ContainerSpec`. Each ``parse_*`` function takes the value text
and raises `ValueError` with the CLI's own complaint when the engine would
reject it; the grammar reports those as DA003, `dockaudit.spec` builds the
container from them, and the inspect reader reuses the same helpers.

Words the linter cannot know come in as *templates*: the word with its quotes
removed and every expansion (``$X``, ``${X}``, ``$(…)``, backticks, a leading
``~``) replaced by `SENTINEL`. Parsers that split composite values
(``-v "$DATA":/var/lib/mysql``, ``-p 127.0.0.1:$PORT:80``) keep the parts that
are known and make the others `UNKNOWN`; nothing is validated that cannot be
seen.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from typing import Any

from dockaudit.model import (
    UNKNOWN,
    DeviceMapping,
    EnvVar,
    ImageRef,
    Link,
    Location,
    Mount,
    OptionUse,
    PortBinding,
    RestartPolicy,
    ThrottleDevice,
    Ulimit,
    Word,
    known,
)
from dockaudit.options import shorthand_of

SENTINEL = "\x00"

# --- words whose value is not known ---------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """A word with quotes removed and each expansion replaced by `SENTINEL`.

    ``expansions`` holds the source text of each expansion, in order, so that
    callers can tell ``$HOME/x`` (a path) from ``$NAME`` (anything).
    """

    text: str
    expansions: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return SENTINEL not in self.text

    def __getitem__(self, index: slice) -> Template:
        return Template(self.text[index], self.expansions)


# A long script gives the same values again and again (--restart unless-stopped,
# --memory 512m, the same image): the parsers of text alone, whose results are
# immutable, remember their answers. A value they refuse is refused again each time.
_remembered = functools.lru_cache(maxsize=4096)


def _matching(text: str, start: int, opening: str, closing: str) -> int:
    """Index just past the bracket that closes the one opened before *start*."""
    depth = 1
    i = start
    quote = ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"':
                i += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _expansion_end(text: str, i: int) -> int:
    """End of the ``$…`` expansion starting at *i* (text[i] == "$")."""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt == "{":
        return _matching(text, i + 2, "{", "}")
    if nxt == "(":
        return _matching(text, i + 2, "(", ")")
    if nxt.isalpha() or nxt == "_":
        j = i + 1
        while j < len(text) and (text[j].isalnum() or text[j] == "_"):
            j += 1
        return j
    if nxt and (nxt.isdigit() or nxt in "@*#?$!-"):
        return i + 2
    return i + 1  # a lone "$" is literal


def _expansion_at(text: str, i: int) -> int | None:
    """End of the expansion (``$X``, ``${…}``, ``$(…)``, backticks) at *i*, if one starts there."""
    if text[i] == "$":
        end = _expansion_end(text, i)
        return end if end > i + 1 else None
    if text[i] == "`":
        end = text.find("`", i + 1)
        return len(text) if end < 0 else end + 1
    if text[i] == "~" and i == 0:
        end = 1
        while end < len(text) and (text[end].isalnum() or text[end] in "_-"):
            end += 1
        return end
    return None


def template_of_text(text: str) -> Template:
    """The template of a shell word given as source text."""
    out: list[str] = []
    expansions: list[str] = []
    i = 0
    n = len(text)
    in_double = False
    while i < n:
        c = text[i]
        expansion = _expansion_at(text, i) if c in "$`" or (c == "~" and not in_double) \
            else None
        if c == "$" and not in_double and i + 1 < n and text[i + 1] == "'":
            end = text.find("'", i + 2)
            end = n if end < 0 else end
            out.append(text[i + 2:end].encode().decode("unicode_escape", errors="replace"))
            i = end + 1
        elif expansion is not None:
            expansions.append(text[i:expansion])
            out.append(SENTINEL)
            i = expansion
        elif c == '"':
            in_double = not in_double
            i += 1
        elif c == "'" and not in_double:
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            out.append(text[i + 1:end])
            i = end + 1
        elif c == "\\" and i + 1 < n and (not in_double or text[i + 1] in '$`"\\\n'):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return Template("".join(out), tuple(expansions))


def word_template(word: Word) -> Template:
    """The template of *word*: its value when known, else derived from its text."""
    if word.is_known:
        return Template(word.value)
    template = template_of_text(word.text)
    if template.known:  # unknown for a reason the text does not show (a glob, braces)
        return Template(SENTINEL, (word.text,))
    return template


def value_template(use: OptionUse) -> Template | None:
    """The template of an option's value (None for a flag without a value)."""
    if use.value is None:
        return None
    if known(use.value_text):
        return Template(use.value_text)
    template = word_template(use.value)
    if use.value is not use.flag:
        return template
    text = template.text
    if text.startswith("--"):
        eq = text.find("=")
        return template[eq + 1:] if eq >= 0 else Template(SENTINEL, template.expansions)
    # an attached short value: "-m$MEM", "-itm=$MEM"
    short = _short_of(use)
    pos = text.find(short, 1) if short else -1
    if pos < 0:
        return Template(SENTINEL, template.expansions)
    rest = template[pos + 1:]
    return rest[1:] if rest.text.startswith("=") else rest


def _short_of(use: OptionUse) -> str:
    spelled = use.spelled
    if spelled.startswith("-") and not spelled.startswith("--") and len(spelled) >= 2:
        return shorthand_of(use.name) or ""
    return ""


def part(text: str) -> str | Any:
    """A piece of a template: itself when known, else `UNKNOWN`."""
    return UNKNOWN if SENTINEL in text else text


def looks_like_path(template: Template) -> bool:
    """Whether a partly unknown value reads as a host path (``$HOME/x``, ``$PWD``, ``./x``)."""
    text = template.text
    if text[:1] in ("/", "."):
        return True
    if text.startswith(SENTINEL) and template.expansions:
        first = template.expansions[0]
        name = first.strip("${}()").split(":")[0].split("/")[0]
        if first.startswith("~") or name in ("HOME", "PWD", "pwd", "OLDPWD"):
            return True
        rest = text[1:]
        return rest.startswith("/") or name.upper().endswith(("DIR", "PATH", "ROOT", "_HOME"))
    return False


# --- numbers, sizes and durations ----------------------------------------

_BYTE_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_GO_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
MIN_MEMORY = 6 * 1024 * 1024  # the engine's minimum for --memory and --memory-reservation


@_remembered
def parse_bytes(text: str) -> int:
    """Bytes from a go-units RAM size: ``512m`` -> 536870912 (binary units, any case)."""
    seps = [text.rfind(c) for c in "01234567890. "]
    sep = max(seps)
    if sep < 0:
        raise ValueError(f"invalid size: '{text}'")
    if text[sep] != " ":
        num, suffix = text[: sep + 1], text[sep + 1:]
    else:
        num, suffix = text[:sep], text[sep + 1:]
    if not _GO_FLOAT.match(num):
        raise ValueError(f'strconv.ParseFloat: parsing "{num}": invalid syntax')
    size = float(num)
    if size < 0:
        raise ValueError(f"invalid size: '{text}'")
    if size >= 2.0 ** 63:
        raise ValueError(f'strconv.ParseFloat: parsing "{num}": value out of range')
    if not suffix:
        return int(size)
    lower = suffix.lower()
    if len(lower) > 3:
        raise ValueError(f"invalid suffix: '{lower}'")
    if lower[0] == "b":
        if len(lower) > 1:
            raise ValueError(f"invalid suffix: '{lower}'")
        return int(size)
    if lower[0] not in _BYTE_UNITS:
        raise ValueError(f"invalid suffix: '{lower}'")
    if (len(lower) == 2 and lower[1] != "b") or (len(lower) == 3 and lower[1:] != "ib"):
        raise ValueError(f"invalid suffix: '{lower}'")
    size *= _BYTE_UNITS[lower[0]]
    if size >= 2.0 ** 63:
        raise ValueError(f"invalid size: '{text}' is out of range")
    return int(size)


def parse_memory_swap(text: str) -> int:
    """``--memory-swap``: bytes, or -1 for unlimited."""
    return -1 if text == "-1" else parse_bytes(text)


_GO_INT = re.compile(r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$")


@_remembered
def parse_int(text: str, bits: int = 64, signed: bool = True) -> int:
    """A Go ``strconv.ParseInt(s, 0, bits)`` (or ParseUint): base prefixes allowed."""
    if not _GO_INT.match(text) or (not signed and text[:1] in "+-") or "__" in text:
        raise ValueError(f'strconv.Parse{"Int" if signed else "Uint"}: parsing "{text}": '
                         "invalid syntax")
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-").replace("_", "")
    if len(body) > 1 and body[0] == "0" and body[1] in "xXoObB":
        value = int(body, 0)
    elif len(body) > 1 and body[0] == "0":
        value = int(body, 8)
    else:
        value = int(body)
    value *= sign
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= value <= high:
        raise ValueError(f'strconv.Parse{"Int" if signed else "Uint"}: parsing "{text}": '
                         "value out of range")
    return value


@_remembered
def parse_nano_cpus(text: str) -> int:
    """``--cpus``: a rational number of CPUs, times 1e9."""
    from fractions import Fraction
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"failed to parse {text} as a rational number") from None
    nano = value * 1_000_000_000
    if nano.denominator != 1:
        raise ValueError("value is too precise")
    if nano < 0 or 0 < nano < 10_000_000:
        raise ValueError("range of CPUs is from 0.01 upwards")
    return int(nano)


_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
                   "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION = re.compile(r"(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)")


@_remembered
def parse_duration(text: str) -> int:
    """A Go ``time.ParseDuration`` in nanoseconds (``1m30s`` -> 90000000000)."""
    from fractions import Fraction
    body = text
    sign = 1
    if body[:1] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return 0
    if not body:
        raise ValueError(f'time: invalid duration "{text}"')
    total = Fraction(0)
    pos = 0
    while pos < len(body):
        m = _DURATION.match(body, pos)
        if not m or m.group(1) in ("", "."):
            if m is None and re.match(r"[\d.]+$", body[pos:]):
                raise ValueError(f'time: missing unit in duration "{text}"')
            raise ValueError(f'time: invalid duration "{text}"')
        total += Fraction(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    return sign * int(total)


# --- ports -----------------------------------------------------------------

_PROTOCOLS = ("tcp", "udp", "sctp")


def _port_range(text: str, what: str) -> tuple[int, int]:
    start_text, _, end_text = text.partition("-")
    try:
        start = parse_int(start_text, 16, signed=False) if start_text else None
        end = parse_int(end_text, 16, signed=False) if end_text else start
    except ValueError:
        raise ValueError(f"invalid {what}: {text}") from None
    if start is None or end is None or (text.count("-") == 1 and not end_text):
        raise ValueError(f"invalid {what}: {text}")
    if end < start:
        raise ValueError(f"invalid range specified for {what}: {text}")
    return start, end


def _split_proto(text: str) -> tuple[str, str]:
    port, _, proto = text.partition("/")
    return (proto or "tcp"), port


def _check_ip(text: str) -> str:
    import ipaddress
    raw = text
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise ValueError(f"invalid IP address {text}")
        raw = raw[1:-1]
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        raise ValueError(f"invalid IP address: {raw}") from None
    return raw


def parse_port_spec(text: str, loc: Location | None = None) -> tuple[PortBinding, ...]:
    """``-p`` short or long syntax as the engine stores it: one binding per container port.

    Parts of *text* holding `SENTINEL` become `UNKNOWN`; a value made of an
    expansion alone gives one binding that is unknown throughout.
    """
    if "=" in text:
        return _parse_port_long(text, loc)
    parts = text.split(":")
    cport = parts[-1]
    if len(parts) == 1:
        ip, hport = "", ""
    elif len(parts) == 2:
        ip, hport = "", parts[0]
    else:
        ip, hport = ":".join(parts[:-2]), parts[-2]
    if SENTINEL in cport:
        return (PortBinding(UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, loc),)
    proto, cport = _split_proto(cport)
    if not cport:
        raise ValueError(f"no port specified: {text}<empty>")
    if SENTINEL in (parts[0] if len(parts) > 1 else ""):
        ip = SENTINEL  # the leftmost expansion may hold an address as well
    ip_value: str | Any = part(ip)
    if known(ip_value) and ip:
        ip_value = _check_ip(ip)
    if proto.lower() not in _PROTOCOLS:
        raise ValueError(f"invalid proto: {proto}")
    proto = proto.lower()
    start, end = _port_range(cport, "containerPort")
    if SENTINEL in hport:
        return tuple(PortBinding(str(p), proto, ip_value, UNKNOWN, loc)
                     for p in range(start, end + 1))
    hstart = hend = 0
    if hport:
        hstart, hend = _port_range(hport, "hostPort")
        if (end - start) != (hend - hstart) and end != start:
            raise ValueError(f"invalid ranges specified for container and host Ports: "
                             f"{cport} and {hport}")
    bindings = []
    for i in range(end - start + 1):
        host = ""
        if hport:
            host = str(hstart + i)
            if start == end and hstart != hend:
                host = f"{hstart}-{hend}"
        bindings.append(PortBinding(str(start + i), proto, ip_value, host, loc))
    return tuple(bindings)


def _parse_port_long(text: str, loc: Location | None) -> tuple[PortBinding, ...]:
    fields = _csv_fields(text)
    target: str | Any = None
    published: str | Any = ""
    proto: str | Any = "tcp"
    for field in fields:
        key, eq, value = field.partition("=")
        if not eq:
            raise ValueError(f"invalid field {field} must be a key=value pair")
        key = key.lower()
        if key == "target":
            target = part(value)
            if known(target):
                _port_range(value, "target port")
        elif key == "published":
            published = part(value)
            if known(published):
                _port_range(value, "published port")
        elif key == "protocol":
            proto = part(value)
            if known(proto) and proto not in _PROTOCOLS:
                raise ValueError(f"invalid protocol value '{value}'")
        elif key == "mode":
            if known(part(value)) and value not in ("ingress", "host"):
                raise ValueError(f"invalid publish mode value ({value}): must be either "
                                 "'ingress' or 'host'")
        elif SENTINEL not in key:
            raise ValueError(f"invalid field key {key}")
    if target is None:
        raise ValueError("missing mandatory field 'target'")
    return (PortBinding(target, proto, "", published, loc),)


def parse_expose(text: str) -> tuple[str, ...]:
    """``--expose``: ``80``, ``53/udp``, ``8000-8001/tcp`` -> ("80/tcp", …)."""
    proto, port = _split_proto(text)
    if proto not in _PROTOCOLS:
        raise ValueError(f"invalid proto: {proto}")
    try:
        start, end = _port_range(port, "range format for --expose")
    except ValueError:
        raise ValueError(f"invalid range format for --expose: {text}") from None
    return tuple(f"{p}/{proto}" for p in range(start, end + 1))


# --- restart, ulimits, devices, throttles ---------------------------------

RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")


@_remembered
def parse_restart_policy(text: str) -> RestartPolicy:
    """``--restart``: ``on-failure:5`` -> RestartPolicy("on-failure", 5)."""
    name, colon, count = text.partition(":")
    name_value = part(name)
    if known(name_value) and name not in RESTART_POLICIES:
        raise ValueError(f"invalid restart policy '{name}'")
    retries: int | Any = 0
    if colon:
        if SENTINEL in count:
            retries = UNKNOWN
        else:
            try:
                retries = parse_int(count, 64)
            except ValueError:
                raise ValueError("maximum retry count must be an integer") from None
        if name in ("always", "unless-stopped", "no"):
            raise ValueError(f"maximum retry count cannot be used with restart policy '{name}'")
        if known(retries) and retries < 0:
            raise ValueError("maximum retry count cannot be negative")
    return RestartPolicy(name_value, retries)


ULIMIT_NAMES = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")


@_remembered
def parse_ulimit(text: str) -> Ulimit:
    """``--ulimit nofile=1024:2048`` (HARD defaults to SOFT)."""
    name, eq, limits = text.partition("=")
    if not eq:
        raise ValueError(f"invalid ulimit argument: {text}")
    if SENTINEL not in name and name not in ULIMIT_NAMES:
        raise ValueError(f"invalid ulimit type: {name}")
    soft_text, colon, hard_text = limits.partition(":")
    if colon and ":" in hard_text:
        raise ValueError(f"too many limit value arguments - {limits}, can only have up to two, "
                         "`soft[:hard]`")

    def limit(value: str) -> int | Any:
        if SENTINEL in value:
            return UNKNOWN
        try:
            return parse_int(value, 64)
        except ValueError:
            raise ValueError(f"invalid ulimit value: {value}") from None

    soft = limit(soft_text)
    hard = limit(hard_text) if colon else soft
    if known(soft) and known(hard) and soft > hard and hard != -1:
        raise ValueError(f"ulimit soft limit must be less than or equal to hard limit: "
                         f"{soft} > {hard}")
    return Ulimit(part(name), soft, hard)


def _valid_device_mode(mode: str) -> bool:
    return bool(mode) and len(mode) <= 3 and all(c in "rwm" for c in mode) and \
        len(set(mode)) == len(mode)


def parse_device(text: str, loc: Location | None = None) -> DeviceMapping:
    """``--device HOST[:CONTAINER][:PERMS]`` (container path defaults to the host path)."""
    if "=" in text and not text.startswith("/"):  # a CDI device name: vendor.com/class=name
        return DeviceMapping(part(text), part(text), "rwm", loc)
    parts = text.split(":")
    perms = "rwm"
    if len(parts) > 3 or not parts[0]:
        raise ValueError(f"bad format for path: {text}")
    src, dst = parts[0], parts[0]
    if len(parts) == 3:
        src, dst, perms = parts
        if SENTINEL not in perms and not _valid_device_mode(perms):
            raise ValueError(f"bad mode specified: {perms}")
    elif len(parts) == 2:
        if _valid_device_mode(parts[1]):
            perms = parts[1]
        else:
            dst = parts[1]
    for path in (src, dst):
        if SENTINEL not in path and not path.startswith("/"):
            raise ValueError(f"{path} is not an absolute path")
    return DeviceMapping(part(src), part(dst), part(perms), loc)


THROTTLE_KINDS = {"--device-read-bps": "read-bps", "--device-write-bps": "write-bps",
                  "--device-read-iops": "read-iops", "--device-write-iops": "write-iops"}


def parse_throttle_device(text: str, kind: str, loc: Location | None = None) -> ThrottleDevice:
    """``--device-read-bps /dev/sda:1mb`` -> ThrottleDevice("read-bps", "/dev/sda", 1048576)."""
    path, colon, rate_text = text.rpartition(":")
    if not colon or not path:
        raise ValueError(f"bad format: {text}")
    if SENTINEL not in path and not path.startswith("/dev/"):
        raise ValueError(f"bad format for device path: {text}")
    rate: int | Any = UNKNOWN
    if SENTINEL not in rate_text:
        if kind.endswith("bps"):
            try:
                rate = parse_bytes(rate_text)
            except ValueError:
                raise ValueError(f"invalid rate for device: {text}. The correct format is "
                                 "<device-path>:<number>[<unit>]. Number must be a positive "
                                 "integer. Unit is optional and can be kb, mb, or gb") from None
        else:
            try:
                rate = parse_int(rate_text, 64, signed=False)
            except ValueError:
                raise ValueError(f"invalid rate for device: {text}. The correct format is "
                                 "<device-path>:<number>. Number must be a positive "
                                 "integer") from None
    return ThrottleDevice(kind, part(path), rate, loc)


def parse_weight_device(text: str) -> tuple[str | Any, int | Any]:
    """``--blkio-weight-device /dev/sda:200``."""
    path, colon, weight_text = text.rpartition(":")
    if not colon or (SENTINEL not in path and not path.startswith("/dev/")):
        raise ValueError(f"bad format: {text}")
    if SENTINEL in weight_text:
        return part(path), UNKNOWN
    try:
        weight = parse_int(weight_text, 16, signed=False)
    except ValueError:
        raise ValueError(f"invalid weight for device: {text}") from None
    if weight and not 10 <= weight <= 1000:
        raise ValueError(f"invalid weight for device: {text}")
    return part(path), weight


# --- storage -------------------------------------------------------------

_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_PROPAGATIONS = ("shared", "rshared", "slave", "rslave", "private", "rprivate")
_VOLUME_MODES = {"ro": "rw", "rw": "rw", "z": "label", "Z": "label", "nocopy": "copy",
                 "consistent": "consistency", "cached": "consistency",
                 "delegated": "consistency", **{p: "propagation" for p in _PROPAGATIONS}}


def _valid_volume_mode(mode: str) -> bool:
    seen: set[str] = set()
    for item in mode.split(","):
        group = _VOLUME_MODES.get(item)
        if group is None or group in seen:
            return False
        seen.add(group)
    return True


def _volume_type(source: str, template: Template | None = None) -> str:
    if SENTINEL in source:
        return "bind" if looks_like_path(Template(source, template.expansions if template else ())
                                         ) else "volume"
    return "bind" if source.startswith(("/", ".")) else "volume"


def parse_volume_spec(text: str, loc: Location | None = None, *,
                      template: Template | None = None,
                      local_driver: bool = True) -> Mount:
    """``-v [SRC:]DST[:OPTS]``: bind (absolute or ``./`` source), named or anonymous volume.

    A ``./rel`` source is kept as written (the client makes it absolute
    against its own working directory, which a script does not fix). A
    source that is partly unknown gives ``source=UNKNOWN`` and type ``bind``
    when it reads as a path (``$HOME/…``, ``$PWD``, ``${DATA_DIR}``, ``~``),
    else ``volume``. A value that is one expansion and nothing else gives
    a mount unknown throughout.
    """
    if text == SENTINEL:
        return Mount(UNKNOWN, UNKNOWN, UNKNOWN, loc=loc)
    if not text:
        raise ValueError("invalid empty volume spec")
    arr = text.split(":")
    if len(arr) > 3:
        raise ValueError(f"invalid spec: {text}: too many colons")
    if not arr[0]:
        raise ValueError(f"invalid volume specification: '{text}'")
    source: str | None = None
    mode = ""
    if len(arr) == 1:
        target = arr[0]
    elif len(arr) == 2:
        if SENTINEL not in arr[1] and _valid_volume_mode(arr[1]):
            target, mode = arr
        else:
            source, target = arr
    else:
        source, target, mode = arr
    if mode and SENTINEL not in mode and not _valid_volume_mode(mode):
        raise ValueError(f"invalid mode: {mode}")
    if SENTINEL not in target:
        if not target.startswith("/"):
            raise ValueError(f"invalid volume specification: '{text}': invalid mount config for "
                             f"type \"volume\": invalid mount path: '{target}' mount path must "
                             "be absolute")
        if target == "/" and source is not None:
            raise ValueError("invalid specification: destination can't be '/'")
    mode_items = mode.split(",") if mode and SENTINEL not in mode else []
    read_only: bool | Any = "ro" in mode_items if SENTINEL not in mode else UNKNOWN
    propagation = next((m for m in mode_items if m in _PROPAGATIONS), None)
    if source is None:
        return Mount("volume", part(target), None, read_only is True, propagation,
                     tuple(mode_items), "--volume", loc)
    kind = _volume_type(source, template)
    if (kind == "volume" and local_driver and SENTINEL not in source
            and not _VOLUME_NAME.match(source)):
        raise ValueError(f'"{source}" includes invalid characters for a local volume name, only '
                         '"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a '
                         "host directory, use absolute path")
    if kind == "bind" and propagation is None and SENTINEL not in mode:
        propagation = "rprivate"
    return Mount(kind, part(target), _home_relative(source, template) or part(source),
                 read_only is True, propagation, tuple(mode_items), "--volume", loc)


_HOME = frozenset({"~", "$HOME", "${HOME}"})


def _home_relative(source: str, template: Template | None) -> str | None:
    """``~/.ssh`` for a source written ``~/.ssh``, ``$HOME/.ssh`` or ``${HOME}/.ssh``.

    The home directory is not known, but what lies under it is: rules about
    credential stores need the rest of the path.
    """
    if (template is None or not template.expansions or not source.startswith(SENTINEL + "/")
            or SENTINEL in source[1:] or template.expansions[0] not in _HOME):
        return None
    return "~" + source[1:]


def _csv_fields(text: str) -> list[str]:
    try:
        return next(csv.reader([text]))
    except (csv.Error, StopIteration):
        raise ValueError(f"invalid CSV: {text}") from None


_MOUNT_TYPES = ("bind", "volume", "tmpfs", "npipe", "cluster", "image")
_MOUNT_BOOL_KEYS = ("readonly", "ro", "volume-nocopy", "bind-nonrecursive", "bind-create-src")
_MOUNT_KEYS = {"type", "source", "src", "target", "dst", "destination", "readonly", "ro",
               "consistency", "bind-propagation", "bind-nonrecursive", "bind-recursive",
               "bind-create-src", "volume-subpath", "volume-nocopy", "volume-label",
               "volume-driver", "volume-opt", "image-subpath", "tmpfs-size", "tmpfs-mode"}
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


@_remembered
def parse_go_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def parse_mount_csv(text: str, loc: Location | None = None) -> Mount:
    """``--mount type=bind,src=/h,dst=/c,readonly,bind-propagation=rslave``."""
    kind: str | Any = "volume"
    source: str | Any | None = None
    target: str | Any | None = None
    read_only: bool | Any = False
    propagation: str | None = None
    options: list[str] = []
    keys: dict[str, str] = {}
    for field in _csv_fields(text):
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if SENTINEL in key:
            options.append(field)
            continue
        if key not in _MOUNT_KEYS:
            raise ValueError(f"unexpected key '{key}' in '{field}'")
        if not eq:
            if key not in _MOUNT_BOOL_KEYS:
                raise ValueError(f"invalid field '{field}' must be a key=value pair")
            value = "true"
        keys[key] = value
        if key == "type":
            kind = part(value.lower())
            if known(kind) and kind not in _MOUNT_TYPES:
                raise ValueError(f"invalid value for type: {value}")
        elif key in ("source", "src"):
            source = part(value)
        elif key in ("target", "dst", "destination"):
            target = part(value)
        elif key in ("readonly", "ro"):
            read_only = UNKNOWN if SENTINEL in value else parse_go_bool(value)
        elif key == "bind-propagation":
            propagation = part(value)
            if known(propagation) and propagation not in _PROPAGATIONS:
                raise ValueError(f"invalid value for bind-propagation: {value}")
        elif key in ("bind-nonrecursive", "volume-nocopy", "bind-create-src"):
            if SENTINEL not in value:
                parse_go_bool(value)
            options.append(field)
        elif key == "bind-recursive":
            if SENTINEL not in value and value not in ("enabled", "disabled", "writable",
                                                       "readonly"):
                raise ValueError(f"invalid value for {key}: {value}")
            options.append(field)
        elif key == "tmpfs-size":
            if SENTINEL not in value:
                parse_bytes(value)
            options.append(field)
        elif key == "tmpfs-mode":
            if SENTINEL not in value:
                try:
                    int(value, 8)
                except ValueError:
                    raise ValueError(f"invalid value for {key}: {value}") from None
            options.append(field)
        else:
            options.append(field)
    if keys.get("bind-recursive") == "readonly" and keys.get("bind-propagation") != "rprivate":
        raise ValueError("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' "
                         "to be specified in conjunction")
    if target is None or target == "":
        raise ValueError("target is required")
    if known(target) and not target.startswith("/"):
        raise ValueError(f"invalid mount config for type \"{kind}\": invalid mount path: "
                         f"'{target}' mount path must be absolute")
    if kind == "bind":
        if source is None or source == "":
            raise ValueError('invalid mount config for type "bind": field Source must not be '
                             "empty")
        if known(source) and not source.startswith("/") and not (
                source == "." or source.startswith("./")):  # the client makes ./x absolute
            raise ValueError(f"invalid mount config for type \"bind\": invalid mount path: "
                             f"'{source}' mount path must be absolute")
        if propagation is None:
            propagation = "rprivate"
    if kind == "tmpfs" and source not in (None, ""):
        raise ValueError('invalid mount config for type "tmpfs": field Source must be empty')
    if kind == "volume" and source == "":
        source = None
    if kind == "volume" and known(source) and source is not None and \
            not _VOLUME_NAME.match(source):
        raise ValueError(f'"{source}" includes invalid characters for a local volume name')
    return Mount(kind, target, source, read_only is True if known(read_only) else UNKNOWN,
                 propagation, tuple(options), "--mount", loc)


def parse_tmpfs(text: str, loc: Location | None = None) -> Mount:
    """``--tmpfs /run:rw,size=64m``: a tmpfs mount with its options, verbatim."""
    target, _, opts = text.partition(":")
    if SENTINEL not in target and not target.startswith("/"):
        raise ValueError(f"invalid mount path: '{target}' mount path must be absolute")
    options = tuple(o for o in opts.split(",") if o) if SENTINEL not in opts else (UNKNOWN,)
    read_only = "ro" in options
    return Mount("tmpfs", part(target), None, read_only, None, options, "--tmpfs", loc)


# --- identities: images, capabilities, names, signals -----------------------

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
_IDENTIFIER = re.compile(r"^(?:sha256:)?([a-f0-9]{64})$")
_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


@_remembered
def image_ref_error(text: str) -> str | None:
    """Why *text* is not an image reference the CLI accepts, or None when it is."""
    if not text:
        return "invalid reference format: the image name is empty"
    if _IDENTIFIER.match(text):
        return None
    if len(text.split("@")[0].split(":")[0]) > 255:
        return "invalid reference format: repository name must not be more than 255 characters"
    name = text.split("@", 1)[0]
    slash = name.find("/")
    first = name[:slash] if slash >= 0 else ""
    remote = name[slash + 1:] if slash >= 0 and (
        any(c in first for c in ".:") or first == "localhost" or first.lower() != first
    ) else name
    remote = remote.rsplit(":", 1)[0] if ":" in remote.rsplit("/", 1)[-1] else remote
    if remote.lower() != remote:
        return f"invalid reference format: repository name ({remote}) must be lowercase"
    if not _REFERENCE.match(text):
        return "invalid reference format"
    return None


@_remembered
def parse_image_ref(text: str) -> ImageRef | None:
    """An image reference as the engine resolves it; None when it is invalid.

    Docker Hub (``docker.io`` and its aliases) is ``registry=None`` and a
    one-component repository gets ``library/``. A bare image ID is kept as
    a digest with an empty repository.
    """
    if image_ref_error(text) is not None:
        return None
    ident = _IDENTIFIER.match(text)
    if ident:
        return ImageRef(text, None, "", None, "sha256:" + ident.group(1))
    m = _REFERENCE.match(text)
    assert m is not None
    name = m.group("name")
    registry: str | None = None
    first, slash, rest = name.partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost"):
        registry, name = first, rest
    if registry in _HUB:
        registry = None
    if registry is None and "/" not in name:
        name = "library/" + name
    return ImageRef(text, registry, name, m.group("tag"), m.group("digest"))


CAPABILITIES = frozenset(
    "CAP_" + c for c in (
        "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
        "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
        "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
        "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
        "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF "
        "CHECKPOINT_RESTORE"
    ).split()
)


@_remembered
def normalize_capability(text: str) -> str:
    """``net_admin`` -> ``CAP_NET_ADMIN``; ``all`` -> ``ALL`` (as the engine stores them)."""
    upper = text.strip().upper()
    if upper == "ALL":
        return "ALL"
    return upper if upper.startswith("CAP_") else "CAP_" + upper


_CONTAINER_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def check_container_name(text: str) -> None:
    if not _CONTAINER_NAME.match(text):
        raise ValueError(f"Invalid container name ({text}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                         "allowed")


SIGNALS = {
    "ABRT": 6, "ALRM": 14, "BUS": 7, "CHLD": 17, "CLD": 17, "CONT": 18, "FPE": 8, "HUP": 1,
    "ILL": 4, "INT": 2, "IO": 29, "IOT": 6, "KILL": 9, "PIPE": 13, "POLL": 29, "PROF": 27,
    "PWR": 30, "QUIT": 3, "SEGV": 11, "STKFLT": 16, "STOP": 19, "SYS": 31, "TERM": 15,
    "TRAP": 5, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "USR1": 10, "USR2": 12,
    "VTALRM": 26, "WINCH": 28, "XCPU": 24, "XFSZ": 25,
}


def parse_signal(text: str) -> str:
    """A stop signal as the engine accepts it: a number, ``KILL``/``SIGKILL``, ``RTMIN+3``."""
    if text.isdigit():
        if not 0 < int(text) <= 64:
            raise ValueError(f"Invalid signal: {text}")
        return text
    name = text.upper().removeprefix("SIG")
    if name in SIGNALS:
        return text
    m = re.match(r"^RT(MIN|MAX)([+-]\d+)?$", name)
    if m and (not m.group(2) or int(m.group(2).lstrip("+-")) <= 15):
        return text
    raise ValueError(f"Invalid signal: {text}")


# --- network values --------------------------------------------------------


def check_ip(text: str, version: int | None = None) -> str:
    import ipaddress
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"{text} is not an ip address") from None
    if version is not None and address.version != version:
        raise ValueError(f"{text} is not an IPv{version} address")
    return text


_MAC = re.compile(r"^(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^(?:[0-9A-Fa-f]{4}\.){2}"
                  r"[0-9A-Fa-f]{4}$|^(?:[0-9A-Fa-f]{2}[:-]){19}[0-9A-Fa-f]{2}$|"
                  r"^(?:[0-9A-Fa-f]{2}[:-]){7}[0-9A-Fa-f]{2}$")


def check_mac(text: str) -> str:
    if not _MAC.match(text):
        raise ValueError(f"{text} is not a valid mac address")
    return text


def parse_add_host(text: str) -> str:
    """``--add-host`` as the client stores it: ``HOST:IP`` (``=`` accepted, brackets stripped)."""
    import ipaddress
    if "=" in text:
        host, _, ip = text.partition("=")
    else:
        host, sep, ip = text.partition(":")
        if not sep:
            raise ValueError(f"bad format for add-host: {text!r}")
    if not host or not ip:
        raise ValueError(f"bad format for add-host: {text!r}")
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if SENTINEL not in ip and ip != "host-gateway":
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ValueError(f"invalid IP address in add-host: {ip!r}") from None
    return f"{host}:{ip}"


SYSCTL_ALLOWED = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                  "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")
SYSCTL_PREFIXES = ("net.", "fs.mqueue.")


def parse_sysctl(text: str) -> tuple[str | Any, str | Any]:
    """``--sysctl KEY=VALUE``, checked against the namespaced set the CLI allows."""
    key, eq, value = text.partition("=")
    if not eq:
        raise ValueError(f"sysctl '{text}' is not allowed")
    if SENTINEL not in key and key not in SYSCTL_ALLOWED and not key.startswith(SYSCTL_PREFIXES):
        raise ValueError(f"sysctl '{text}' is not allowed")
    return part(key), part(value)


@_remembered
def parse_key_value(text: str, what: str = "option") -> tuple[str | Any, str | Any]:
    """``KEY=VALUE`` (the value may hold ``=``)."""
    key, eq, value = text.partition("=")
    if not eq and SENTINEL not in text:
        raise ValueError(f"invalid key value pair format in {what}: {text!r}")
    if not eq:
        return UNKNOWN, UNKNOWN
    if not key:
        raise ValueError(f"invalid key value pair format in {what}: {text!r}")
    return part(key), part(value)


def parse_env(text: str, loc: Location | None = None) -> EnvVar:
    """``-e KEY=VALUE`` or ``-e KEY`` (value None: taken from the client's environment)."""
    key, eq, value = text.partition("=")
    if eq and not key:
        raise ValueError(f"invalid environment variable: {text}")
    if not eq:
        if SENTINEL in key:
            return EnvVar(UNKNOWN, UNKNOWN, loc)
        return EnvVar(key, None, loc)
    return EnvVar(part(key), part(value), loc)


def parse_security_opt(text: str) -> str:
    """``--security-opt`` as the engine reads it; the legacy ``key:value`` becomes ``key=value``."""
    if text in ("no-new-privileges", "systempaths=unconfined"):
        return text
    key, eq, value = text.partition("=")
    if not eq:
        key, colon, value = text.partition(":")
        if not colon:
            raise ValueError(f'Invalid --security-opt: "{text}"')
    if SENTINEL not in key and key not in SECURITY_OPT_KEYS:
        raise ValueError(f'invalid --security-opt 2: "{text}"')
    return f"{key}={value}"


SECURITY_OPT_KEYS = ("label", "apparmor", "seccomp", "no-new-privileges", "systempaths",
                     "writable-cgroups", "credentialspec", "mask", "unmask", "proc-opts")

_GPU_KEYS = ("count", "device", "driver", "capabilities", "options")


def check_gpus(text: str) -> None:
    """``--gpus all`` | ``N`` | CSV of count=, device=, driver=, capabilities=, options=."""
    if text == "all" or text.isdigit():
        return
    for field in _csv_fields(text):
        key, eq, value = field.partition("=")
        if not eq:
            raise ValueError(f"invalid field {field!r}: must be a key=value pair")
        if key not in _GPU_KEYS:
            raise ValueError(f"unexpected key {key!r} in {field!r}")
        if key == "count" and value != "all" and not value.isdigit():
            raise ValueError(f"invalid count ({value}): value must be either \"all\" or "
                             "an integer")


_CGROUP_RULE = re.compile(r"^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$")


def check_device_cgroup_rule(text: str) -> None:
    if not _CGROUP_RULE.match(text):
        raise ValueError(f"invalid device cgroup format '{text}'")


_CPUSET = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def check_cpuset(text: str) -> None:
    if text and not _CPUSET.match(text):
        raise ValueError(f"invalid value {text} for cpuset")


def parse_link(text: str, loc: Location | None = None) -> Link:
    """``--link CONTAINER[:ALIAS]`` (the alias defaults to the container name)."""
    parts = text.split(":")
    if len(parts) > 2 or not parts[0]:
        raise ValueError(f"bad format for links: {text}")
    name = parts[0].lstrip("/")
    alias = parts[1] if len(parts) == 2 else name
    return Link(part(name), part(alias), loc)


def network_endpoint_ips(text: str) -> dict[str, str | Any]:
    """``ip=``/``ip6=`` of the CSV form of ``--network`` (``name=N,ip=10.0.0.5``), by field name."""
    if "=" not in text or text.startswith("container:"):
        return {}
    found: dict[str, str | Any] = {}
    for field in _csv_fields(text):
        key, eq, value = field.partition("=")
        if eq and key in ("ip", "ip6"):
            found[key] = part(value)
    return found


def go_clean_path(path: str) -> str:
    """Go's ``filepath.Clean`` on a slash path: ``/a//b/../c/`` -> ``/a/c``."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for piece in path.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(piece)
    cleaned = "/".join(parts)
    return ("/" + cleaned) if rooted else (cleaned or ".")


@_remembered
def parse_network(text: str) -> tuple[str | Any, tuple[str | Any, ...]]:
    """``--network NAME`` or the CSV form ``name=N,alias=A,…``: the name and its aliases."""
    if "=" not in text or text.startswith("container:"):
        if text == "container:" :
            raise ValueError("invalid container format container:<name|id>")
        return part(text), ()
    name: str | Any = None
    aliases: list[str | Any] = []
    for field in _csv_fields(text):
        key, eq, value = field.partition("=")
        if key == "name":
            name = part(value)
        elif key == "alias":
            aliases.append(part(value))
        elif key not in ("ip", "ip6", "mac-address", "link-local-ip", "driver-opt",
                         "gw-priority") and SENTINEL not in key:
            raise ValueError(f"invalid field key {key}")
    if name is None:
        raise ValueError("network name is required")
    return name, tuple(aliases)


def check_namespace_mode(flag: str, text: str) -> None:
    """Client-side checks of --pid/--ipc/--uts/--userns/--cgroupns values."""
    allowed = {
        "--pid": ("", "host"), "--uts": ("", "host"), "--userns": ("", "host"),
        "--ipc": ("", "none", "private", "shareable", "host"),
        "--cgroupns": ("", "host", "private"),
    }[flag]
    if text in allowed:
        return
    if flag in ("--pid", "--ipc") and text.startswith("container:") and len(text) > 10:
        return
    what = {"--pid": "PID", "--uts": "UTS", "--userns": "USER", "--ipc": "IPC",
            "--cgroupns": "CGROUP"}[flag]
    raise ValueError(f"{flag}: invalid {what} mode")


def check_health_duration(text: str) -> int:
    value = parse_duration(text)
    if value != 0 and value < 1_000_000:
        raise ValueError(f"{text} is less than the minimum of 1ms")
    return value
