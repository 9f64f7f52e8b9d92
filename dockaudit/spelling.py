"""Did-you-mean: the known word a misspelt one was probably meant to be.

One measure serves every suggestion dockaudit makes (an unknown option, a
container or network name a script never creates): the edit distance with
adjacent transpositions, within a limit that grows with the word (one edit
up to five characters, two beyond), the limits users of ShellCheck and the
Docker CLI's own suggestions are used to.

`closest` looks through a short list (the options of a command).
`SpellingIndex` holds many words (every name a long script creates) and
compares a word only with those that can be within the limit: the same
length give or take the limit, and sharing one piece of the word in place.
The cost of a look-up then depends on how many words are that close, not on
how many there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# Pieces every indexed word is cut into. An edit breaks one piece, a transposition
# across a boundary two: with 2 * limit + 1 pieces, at least one is intact.
_PIECES = 5


def max_edits(word: str) -> int:
    """How many edits a word may be away from what was meant."""
    return 1 if len(word) <= 5 else 2


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance with adjacent transpositions (optimal string alignment).

    With *limit*, any distance above it is returned as ``limit + 1`` as soon as
    it is certain, which is most of the time for words that are not close.
    """
    if a == b:
        return 0
    cap = max(len(a), len(b)) if limit is None else limit
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and prev2[j - 2] + 1 < best:
                best = prev2[j - 2] + 1
            cur[j] = best
        if min(cur) > cap:
            return cap + 1
        prev2, prev = prev, cur
    return prev[-1] if prev[-1] <= cap else cap + 1


def _best(word: str, candidates: Iterable[str], skip: Callable[[str, str], bool] | None) -> str | None:
    """The candidate fewest edits from *word* within its limit; the first one on a tie."""
    limit = max_edits(word)
    best: tuple[int, str] | None = None
    for candidate in candidates:
        if skip is not None and skip(word, candidate):
            continue
        distance = edit_distance(word, candidate, limit)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


def closest(word: str, candidates: Iterable[str],
            skip: Callable[[str, str], bool] | None = None) -> str | None:
    """What *word* was probably meant to be among *candidates*; None when it is one of them.

    *skip* leaves out candidates that are close on purpose (``web1`` next to ``web2``).
    """
    pool = list(candidates)
    if word in pool:
        return None
    return _best(word, pool, skip)


def _pieces(length: int) -> list[tuple[int, int]]:
    """(start, end) of the pieces a word of *length* characters is cut into."""
    count = min(_PIECES, length)
    short, extra = divmod(length, count)
    bounds = []
    start = 0
    for i in range(count):
        end = start + short + (1 if i >= count - extra else 0)
        bounds.append((start, end))
        start = end
    return bounds


class SpellingIndex:
    """Many known words, for `closest` look-ups that do not compare every word."""

    def __init__(self, words: Iterable[str], skip: Callable[[str, str], bool] | None = None) -> None:
        self.skip = skip
        self.order: dict[str, int] = {}
        for word in words:
            self.order.setdefault(word, len(self.order))
        self._by_length: dict[int, list[str]] | None = None
        self._by_piece: dict[tuple[int, int, str], list[str]] = {}

    def __contains__(self, word: str) -> bool:
        return word in self.order

    def __bool__(self) -> bool:
        return bool(self.order)

    def _build(self) -> dict[int, list[str]]:
        # Built at the first look-up: most scripts never misspell a name.
        by_length: dict[int, list[str]] = {}
        for word in self.order:
            by_length.setdefault(len(word), []).append(word)
            if len(word) >= 3:
                for n, (start, end) in enumerate(_pieces(len(word))):
                    self._by_piece.setdefault((len(word), n, word[start:end]), []).append(word)
        return by_length

    def _candidates(self, word: str, limit: int) -> Iterable[str]:
        by_length = self._by_length
        assert by_length is not None
        found: set[str] = set()
        for length in range(max(0, len(word) - limit), len(word) + limit + 1):
            if length not in by_length:
                continue
            pieces = _pieces(length) if length else []
            if len(pieces) < 2 * limit + 1:
                found.update(by_length[length])  # too short to cut: few such words exist
                continue
            for n, (start, end) in enumerate(pieces):
                size = end - start
                for at in range(max(0, start - limit), min(len(word) - size, start + limit) + 1):
                    found.update(self._by_piece.get((length, n, word[at:at + size]), ()))
        return sorted(found, key=self.order.__getitem__)

    def closest(self, word: str) -> str | None:
        """The indexed word *word* was probably meant to be; None when it is indexed itself."""
        if word in self.order:
            return None
        if self._by_length is None:
            self._by_length = self._build()
        return _best(word, self._candidates(word, max_edits(word)), self.skip)
