"""Stateful images and where they keep their data.

Used by the storage rules (a database with no volume at its data directory,
``--rm`` on a database) and by the script rules (``docker rm -v`` of a
database container). The table lives in ``data/stateful_images.yaml`` (read
as the generated ``stateful_images.json``); configuration adds to it (rule
option ``extra-stateful-images``: image name → data directories; an empty list
marks an image as not stateful).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import Any

from dockaudit.model import UNKNOWN, ImageRef

from .imagenames import load_table, match, normalize_key

TABLE_FILE = "stateful_images.json"  # generated from stateful_images.yaml

# Images whose data directory is named by their command rather than fixed:
# ``minio server /data``, ``minio server /mnt/disk{1...4}``.
_COMMAND_NAMES_DIR = frozenset({"minio", "minio/minio"})


@cache
def stateful_table() -> Mapping[str, tuple[str, ...]]:
    """The shipped table, read-only: normalised image key → data directories."""
    return MappingProxyType({key: tuple(dirs) for key, dirs in load_table(TABLE_FILE).items()})


def stateful_data_dirs(
    image: ImageRef | Any,
    extra: Mapping[str, Sequence[str]] | None = None,
    *,
    command: Sequence[str | Any] | None = None,
    env: Mapping[str, Any] | None = None,
) -> tuple[str, ...] | None:
    """The data directories of *image*, or None when it is not a known stateful image.

    *extra* (from configuration) adds or overrides entries, keyed like the
    table (``mysql``, ``bitnami/postgresql``, ``registry.example.com/team/db``);
    an empty list there declares an image not stateful. The most specific key
    wins, so ``bitnami/postgresql`` is matched before ``postgresql``/``postgres``.
    *command*, the container's command words when known, lets images such as
    minio, whose command names the data directory, report that directory; a
    data-directory option (``-data-dir``, ``--datadir``, ``--dbpath``, ``-D``)
    in the command or ``PGDATA`` in *env* replaces the table's directories.
    A ``NAME@MAJOR`` entry applies from that major version of the tag on.
    """
    if image is None or image is UNKNOWN or not isinstance(image, ImageRef):
        return None
    table = stateful_table()
    if extra:
        table = {**table, **{normalize_key(str(key)): tuple(str(d) for d in dirs) for key, dirs in extra.items()}}
    found = match(image, table)
    if found is None:
        return None
    key, dirs = found
    if not dirs:
        return None
    dirs = _for_version(key, image, table) or dirs
    if key in _COMMAND_NAMES_DIR and command:
        named = _minio_dirs(command)
        if named:
            return named
    given = _data_dir_given(command or (), env or {})
    if given == ():
        return None  # the data directory is set, but to something unknown
    return given or tuple(dirs)


_VERSION = re.compile(r"^(\d+)")


def _for_version(key: str, image: ImageRef, table: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The directories of a ``NAME@MAJOR`` entry: from that major version of the tag on.

    postgres 18 keeps its data under /var/lib/postgresql (a versioned subdirectory),
    not /var/lib/postgresql/data as before.
    """
    tag = image.tag if isinstance(image.tag, str) else None
    m = _VERSION.match(tag or "")
    if m is None:
        return None
    major = int(m.group(1))
    best: tuple[int, tuple[str, ...]] | None = None
    for entry, dirs in table.items():
        name, at, since = entry.partition("@")
        if at and name == key and since.isdigit() and int(since) <= major:
            if best is None or int(since) > best[0]:
                best = (int(since), tuple(dirs))
    return best[1] if best else None


# Server options that move the data directory: consul -data-dir, mysqld --datadir,
# mongod --dbpath, postgres -D, redis --dir. Compared without dashes or underscores.
_DATA_DIR_OPTIONS = frozenset({"datadir", "dbpath", "datapath", "datadirectory", "dir", "d"})
_DATA_DIR_ENV = frozenset({"PGDATA"})


def _data_dir_given(command: Sequence[str | Any], env: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The data directory the command line or the environment names; () when set but unknown."""
    words = list(command)
    for i, word in enumerate(words):
        if word is UNKNOWN or not str(word).startswith("-"):
            continue
        name, eq, value = str(word).lstrip("-").partition("=")
        bare = name.replace("-", "").replace("_", "").lower()
        if bare not in _DATA_DIR_OPTIONS or (bare == "d" and name != "D"):
            continue
        if not eq:
            value = words[i + 1] if i + 1 < len(words) else UNKNOWN
        if value is UNKNOWN or not str(value).startswith("/"):
            return () if value is UNKNOWN else None
        return (str(value).rstrip("/") or "/",)
    for key in _DATA_DIR_ENV:
        if key in env:
            value = env[key]
            if value is UNKNOWN or value is None:
                return ()
            path = str(value)
            # PGDATA is often a subdirectory of the volume (/var/lib/postgresql/data/pgdata)
            return (path.rstrip("/") or "/",) if path.startswith("/") else None
    return None


def _minio_dirs(command: Sequence[str | Any]) -> tuple[str, ...] | None:
    """The local directories of ``[minio] server DIR…`` (flags and URLs skipped)."""
    words = list(command)
    if words and words[0] is not UNKNOWN and str(words[0]).rsplit("/", 1)[-1] == "minio":
        words = words[1:]
    if not words or words[0] != "server":
        return None
    dirs: list[str] = []
    skip_value = False
    for word in words[1:]:
        if word is UNKNOWN:
            return None
        if skip_value:
            skip_value = False
            continue
        if word.startswith("-"):
            skip_value = "=" not in word
            continue
        if word.startswith("/") and "{" not in word:
            dirs.append(word.rstrip("/") or "/")
        elif "://" in word or "{" in word:
            return None  # distributed or expanded sets: no single local directory to require
    return tuple(dirs) or None
