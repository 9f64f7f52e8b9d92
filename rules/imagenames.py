"""How data tables keyed by image name are matched against an image reference.

A table key is a repository path without tag: ``mysql``, ``bitnami/postgresql``,
``mssql/server``, or with a registry, ``ghcr.io/acme/db``. The most specific
key wins: the full reference with its registry, then the repository path, then
ever shorter tails of it, down to the bare name. A key with a slash therefore
matches only that namespace (``bitnami/postgresql``), and a bare key
(``postgres``) matches an image of that name in any namespace or registry.
Docker Hub's ``library/`` namespace and ``docker.io`` registry are ignored.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from dockaudit.model import ImageRef

DOCKER_HUB = "docker.io"
DATA = Path(__file__).resolve().parent / "data"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})


def registry_of(image: ImageRef) -> str:
    """The registry host of *image*, ``docker.io`` for Docker Hub."""
    if image.registry is None or image.registry.lower() in _HUB_ALIASES:
        return DOCKER_HUB
    return image.registry.lower()


def repository_path(image: ImageRef) -> str:
    """The repository path, lower-case, without Docker Hub's ``library/`` namespace."""
    path = image.repository.lower().strip("/")
    if registry_of(image) == DOCKER_HUB and path.startswith("library/"):
        path = path[len("library/"):]
    return path


@lru_cache(maxsize=1024)  # a script names a few images many times
def lookup_keys(image: ImageRef) -> tuple[str, ...]:
    """Candidate table keys for *image*, most specific first."""
    path = repository_path(image)
    parts = path.split("/")
    keys: list[str] = []
    registry = registry_of(image)
    if registry != DOCKER_HUB:
        keys.append(f"{registry}/{path}")
    keys.extend("/".join(parts[i:]) for i in range(len(parts)))
    return tuple(dict.fromkeys(keys))


def normalize_key(key: str) -> str:
    """A table key as written in a data file or the configuration, ready to compare."""
    key = key.strip().lower().strip("/")
    for hub in _HUB_ALIASES:
        if key.startswith(hub + "/"):
            key = key[len(hub) + 1:]
            break
    key = key.removeprefix("library/")
    return key


def match(image: ImageRef, table: dict[str, Any]) -> tuple[str, Any] | None:
    """The most specific (key, value) of *table* (normalised keys) naming *image*."""
    for key in lookup_keys(image):
        if key in table:
            return key, table[key]
    return None


@cache
def load_table(filename: str) -> dict[str, Any]:
    """A table shipped in ``dockaudit_rules/data`` (``eol.json``), keys normalised.

    The JSON is generated from the YAML file of the same name, which is the one
    to edit (then run tools/generate.py); dates in it are ISO strings.
    """
    with (DATA / filename).open(encoding="utf-8") as handle:
        data = json.load(handle)
    table = data.get("table") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise TypeError(f"{filename}: expected a mapping under 'table'")
    return {normalize_key(str(k)): v for k, v in table.items()}
