"""The did-you-mean measure, and its index checked against comparing every word."""

from __future__ import annotations

import random

import pytest

from dockaudit.spelling import SpellingIndex, closest, edit_distance


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("kitten", "sitting", 3),
    ("postgres", "postgers", 1),  # a transposition is one edit
    ("ca", "abc", 3),  # optimal string alignment: no edit of a transposed pair
    ("", "web", 3),
    ("web", "web", 0),
])
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_edit_distance_stops_at_the_limit() -> None:
    assert edit_distance("kitten", "sitting", 1) == 2
    assert edit_distance("billing-api-prod", "search-db-stage", 2) == 3
    assert edit_distance("postgres", "postgers", 1) == 1


def test_closest() -> None:
    assert closest("wordpresdb", ["web", "wordpressdb"]) == "wordpressdb"
    assert closest("api", ["app"]) == "app"
    assert closest("cache", ["db"]) is None
    assert closest("--memroy", ["--memory", "--memory-swap"]) == "--memory"
    assert closest("web", ["web", "wbe"]) is None  # a known word is no typo
    assert closest("webb", ["web1", "web"], skip=lambda w, c: c == "web") == "web1"


def test_a_tie_goes_to_the_first_word() -> None:
    assert closest("cat", ["bat", "cot", "car"]) == "bat"
    assert SpellingIndex(["cot", "bat", "car"]).closest("cat") == "cot"


def _typo(rng: random.Random, word: str) -> str:
    for _ in range(rng.choice([1, 1, 2, 3])):
        i = rng.randrange(len(word) + 1)
        kind = rng.randrange(4)
        if kind == 0:
            word = word[:i] + rng.choice("abe-1") + word[i:]
        elif kind == 1 and i < len(word):
            word = word[:i] + word[i + 1:]
        elif kind == 2 and i < len(word):
            word = word[:i] + rng.choice("abe-1") + word[i + 1:]
        elif i + 1 < len(word):
            word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word


def test_the_index_finds_what_comparing_every_word_finds() -> None:
    rng = random.Random(7)
    parts = ["api", "db", "web", "billing", "a", "be", "cache", "eu", "1", "2", "-"]
    words = list(dict.fromkeys("".join(rng.choice(parts) for _ in range(rng.randint(1, 5)))
                               for _ in range(200)))
    index = SpellingIndex(words)
    queries = [_typo(rng, rng.choice(words)) for _ in range(800)]
    queries += ["".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) for _ in range(200)]
    found = 0
    for query in queries:
        expected = closest(query, words)
        assert index.closest(query) == expected, query
        found += expected is not None
    assert found > 300  # the comparison saw many hits, not only misses


def _reference_distance(a: str, b: str) -> int:
    """Optimal string alignment as textbooks write it: the whole table, nothing skipped."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_edit_distance_agrees_with_the_whole_table() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        a = "".join(rng.choice("aab-") for _ in range(rng.randint(0, 7)))
        b = "".join(rng.choice("aab-") for _ in range(rng.randint(0, 7)))
        expected = _reference_distance(a, b)
        assert edit_distance(a, b) == expected, (a, b)
        for limit in (1, 2):
            assert edit_distance(a, b, limit) == min(expected, limit + 1), (a, b, limit)


def test_the_index_finds_the_same_among_crowds_of_long_names() -> None:
    # Long names that share their beginnings and differ in a number, as a long deploy
    # script makes them: look-ups by pieces (a name started elsewhere) and by the walk
    # (a typo among a crowd of near names) must both find what comparing every name finds.
    rng = random.Random(11)
    teams = ["billing", "search", "payments", "catalog"]
    roles = ["api", "worker", "cache", "queue"]
    words = [f"{t}{n}-{e}-{r}" for t in teams for r in roles for e in ("prod", "stage")
             for n in range(1, 13)]
    index = SpellingIndex(words)
    queries = [_typo(rng, rng.choice(words)) for _ in range(300)]
    queries += [f"{t}-sidecar-{n}" for t in teams for n in range(5)]
    queries += [f"{t}-{e}-{r}" for t in teams for r in roles for e in ("prod", "stag", "stge")]
    hits = 0
    for query in queries:
        expected = closest(query, words)
        assert index.closest(query) == expected, query
        hits += expected is not None
    assert hits > 150
    assert index._pieces is not None  # the piece look-up was taken
