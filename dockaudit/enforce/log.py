"""The decision log: one JSON line per judged request.

A line holds the time, the request (method, URI, user), the container and
image, the findings with the action each took, the decision, and how long
the decision took. Request bodies are never written; environment values,
passwords in URLs and credential-shaped ``KEY=value`` pairs are masked in
whatever text is written.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from typing import IO, Any

MASK = "****"
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:)[^\s@/]+(?=@)")
_PAIR = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>=|%3D)(?P<value>[^\s&;,|]+)", re.IGNORECASE)
_CREDENTIAL_KEY = re.compile(r"PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH", re.IGNORECASE)


def redact(text: str) -> str:
    """*text* with URL passwords and values of credential-shaped keys masked."""
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    if "=" in text or "%3" in text:
        text = _PAIR.sub(_mask_pair, text)
    return text


def _mask_pair(match: re.Match[str]) -> str:
    if match.group("value") in (MASK, "…") or not _CREDENTIAL_KEY.search(match.group("key")):
        return match.group(0)
    return f"{match.group('key')}{match.group('sep')}{MASK}"


class DecisionLog:
    """Appends JSON lines to a file or a stream, one whole line at a time from any thread."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path if path not in (None, "-") else None
        self._lock = threading.Lock()
        self._stream: IO[str] = open(self.path, "a", encoding="utf-8") if self.path else sys.stdout

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._stream.write(line)
            self._stream.flush()

    def close(self) -> None:
        if self.path:
            self._stream.close()
