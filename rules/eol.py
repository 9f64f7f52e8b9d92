"""The end-of-life table of image releases and its lookup.

``data/eol.yaml`` maps an image (keyed as in `imagenames`) to tag prefixes and
the dates their releases stopped receiving fixes. Configuration adds entries
with the same shape (rule option ``extra-eol``). Dates are compared with the
day the check runs (``RuleContext.today``), never with the clock here.
The rules read ``data/eol.json``, generated from the YAML by
tools/generate.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

from dockaudit.model import UNKNOWN, ImageRef

from .imagenames import load_table, match, normalize_key

TABLE_FILE = "eol.json"  # generated from eol.yaml
EVERY_TAG = "*"


class EolEntry(NamedTuple):
    """The release of an image that a tag names, and when that release ended."""

    image: str  # the table key that matched: "python", "bitnami/postgresql"
    release: str  # the tag prefix that matched: "2.7", "xenial", "*"
    eol: dt.date


def parse_date(value: Any) -> dt.date:
    """A table or configuration date: a YAML date or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


def eol_table(extra: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, dt.date]]:
    """The shipped table merged with *extra* (entries of *extra* win, prefix by prefix)."""
    table = _shipped_table()
    if not extra:
        return table
    table = {key: dict(releases) for key, releases in table.items()}
    for key, releases in extra.items():
        if not isinstance(releases, Mapping):
            raise TypeError(f"extra-eol: {key!r} must map tag prefixes to dates")
        merged = table.setdefault(normalize_key(str(key)), {})
        for prefix, date in releases.items():
            merged[str(prefix)] = parse_date(date)
    return table


def tag_matches(tag: str, prefix: str) -> bool:
    """Whether *tag* names the release *prefix*: ``3.8`` covers ``3.8.18-slim``, not ``3.80``."""
    if prefix == EVERY_TAG:
        return True
    if not tag.lower().startswith(prefix.lower()):
        return False
    if len(tag) == len(prefix):
        return True
    following = tag[len(prefix)]
    if prefix[-1].isdigit():
        return not following.isdigit()
    return not following.isalnum()


@cache
def _shipped_table() -> dict[str, dict[str, dt.date]]:
    return {
        key: {str(prefix): parse_date(date) for prefix, date in releases.items()}
        for key, releases in load_table(TABLE_FILE).items()
    }


def _names_a_release(tag: str | None) -> bool:
    """Whether a tag names one of an image's releases: none (latest) or a version number.

    Custom tags (``centos:demo``) are usually images built locally on top of it.
    """
    return tag is None or tag[:1].isdigit()


def release_of(tag: str | None, releases: Mapping[str, dt.date]) -> tuple[str, dt.date] | None:
    """The most specific release of *releases* that *tag* names."""
    best: tuple[str, dt.date] | None = None
    for prefix, date in releases.items():
        if prefix == EVERY_TAG:
            if not _names_a_release(tag):
                continue
            if best is None:
                best = (prefix, date)
            continue
        if tag is None or not tag_matches(tag, prefix):
            continue
        if best is None or best[0] == EVERY_TAG or len(prefix) > len(best[0]):
            best = (prefix, date)
    return best


def eol_entry(
    image: ImageRef | Any,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> EolEntry | None:
    """The release *image* names and its end-of-life date, when the table knows it.

    Whether that date has passed is for the caller to decide against its own
    notion of today.
    """
    if image is None or image is UNKNOWN or not isinstance(image, ImageRef):
        return None
    found = match(image, eol_table(extra))
    if found is None:
        return None
    key, releases = found
    tag = image.tag if image.tag not in (None, "latest") else None
    hit = release_of(tag, releases)
    if hit is None:
        return None
    return EolEntry(image=key, release=hit[0], eol=hit[1])
