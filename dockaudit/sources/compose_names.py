"""Which files are Compose files, by name; kept apart so that finding them imports no YAML."""

from __future__ import annotations

_STEMS = ("docker-compose", "compose")
_SUFFIXES = (".yml", ".yaml")
# Read together with the file they override, not on their own.
OVERRIDE_OF = {
    "docker-compose.override.yml": ("docker-compose.yml", "docker-compose.yaml"),
    "docker-compose.override.yaml": ("docker-compose.yaml", "docker-compose.yml"),
    "compose.override.yaml": ("compose.yaml", "compose.yml"),
    "compose.override.yml": ("compose.yml", "compose.yaml"),
}


def is_compose_name(name: str) -> bool:
    """Whether a file name (no folder) is a Compose file's: compose.yaml, compose.yml,
    docker-compose.yml, docker-compose.yaml, and each with a part before the suffix
    (docker-compose.prod.yml, compose.dev.yaml), in any case."""
    lowered = name.lower()
    for stem in _STEMS:
        for suffix in _SUFFIXES:
            # compose.yaml, or compose.PART.yaml (compose.prod.yaml, docker-compose.override.yml)
            if lowered == stem + suffix or (lowered.startswith(stem + ".") and lowered.endswith(suffix)
                                            and len(lowered) > len(stem) + 1 + len(suffix)):
                return True
    return False
