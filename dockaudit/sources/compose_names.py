"""Which files are Compose files, by name; kept apart so that finding them imports no YAML."""

from __future__ import annotations

import fnmatch

COMPOSE_PATTERNS = (
    "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
    "docker-compose.*.yml", "docker-compose.*.yaml", "compose.*.yaml", "compose.*.yml",
)
# Read together with the file they override, not on their own.
OVERRIDE_OF = {
    "docker-compose.override.yml": ("docker-compose.yml", "docker-compose.yaml"),
    "docker-compose.override.yaml": ("docker-compose.yaml", "docker-compose.yml"),
    "compose.override.yaml": ("compose.yaml", "compose.yml"),
    "compose.override.yml": ("compose.yml", "compose.yaml"),
}


def is_compose_name(name: str) -> bool:
    """Whether a file name (no folder) is one Compose reads: compose.yaml, docker-compose.*.yml, …"""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in COMPOSE_PATTERNS)
