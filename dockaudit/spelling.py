"""Did-you-mean: the known word a misspelt one was probably meant to be.

One measure serves every suggestion dockaudit makes (an unknown option, a
container or network name a script never creates): the edit distance with
adjacent transpositions, within a limit that grows with the word (one edit
up to five characters, two beyond), the limits users of ShellCheck and the
Docker CLI's own suggestions are used to.

`closest` looks through a short list (the options of a command).
`SpellingIndex` holds many words (every name a long script creates) and
goes only as far into them as the limit allows: a beginning already too far
from the word rules out every word that starts with it, so a look-up costs
what the words near it cost, not what all of them would.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator


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
    # What both words begin and end with costs nothing: compare the rest.
    same = 0
    shorter = min(len(a), len(b))
    while same < shorter and a[same] == b[same]:
        same += 1
    tail = 0
    while tail < shorter - same and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    a, b = a[same:len(a) - tail], b[same:len(b) - tail]
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


_LAST_CHARACTER = chr(0x10FFFF)
_PIECE = 3  # the length of the pieces `SpellingIndex` narrows a look-up by
_PIECE_EDITS = _PIECE + 1  # how many of a word's pieces one edit can change at most
_FEW = 64  # how many candidates are compared one by one rather than walked


class SpellingIndex:
    """Many known words, for `closest` look-ups that do not compare every word.

    The words are kept sorted, so words with a common beginning are
    neighbours: the table of edit distances is computed once for a beginning
    they share, and the words after a beginning already too far from the
    word looked up are skipped in one step, and a word longer or shorter than
    the limit allows is passed over. Only the cells the limit allows are
    computed (the band around the diagonal). A long word is first looked up
    by its pieces where they are (`_candidates`): most often that leaves a
    few words, or none, to compare.
    """

    def __init__(self, words: Iterable[str], skip: Callable[[str, str], bool] | None = None) -> None:
        self.skip = skip
        self.order: dict[str, int] = {}
        for word in words:
            self.order.setdefault(word, len(self.order))
        self._sorted: list[str] | None = None
        self._pieces: list[dict[str, list[str]]] | None = None  # [place][piece] -> the words with it there
        self._answers: dict[str, str | None] = {}  # a misspelt name is often used again

    def __contains__(self, word: str) -> bool:
        return word in self.order

    def __bool__(self) -> bool:
        return bool(self.order)

    def within(self, word: str, limit: int) -> Iterator[tuple[int, str]]:
        """(distance, indexed word) for every indexed word at most *limit* edits from *word*."""
        if self._sorted is None:
            self._sorted = sorted(self.order)  # at the first look-up: most scripts misspell nothing
        words = self._sorted
        width = len(word) + 1
        far = limit + 1
        rows = [[min(j, far) for j in range(width)]]  # rows[d]: distances from the first d characters
        beginning = ""  # the characters rows[1:] stand for
        i = 0
        while i < len(words):
            candidate = words[i]
            if abs(len(candidate) - len(word)) > limit:  # too long or too short to be close
                i += 1
                continue
            depth = 0
            shared = min(len(beginning), len(candidate))
            while depth < shared and beginning[depth] == candidate[depth]:
                depth += 1
            del rows[depth + 1:]
            too_far = False
            for d in range(depth + 1, len(candidate) + 1):
                rows.append(_next_row(rows, word, candidate, d, limit))
                if min(rows[d]) > limit:
                    too_far = True
                    break
            if too_far:
                beginning = candidate[:len(rows) - 1]
                i = bisect_right(words, beginning + _LAST_CHARACTER, i)
                continue
            beginning = candidate
            if rows[-1][-1] <= limit:
                yield rows[-1][-1], candidate
            i += 1

    def _candidates(self, word: str, limit: int) -> set[str] | None:
        """A few indexed words among which are all those within *limit* edits of *word*, found
        by their pieces; None when the pieces do not narrow the search to a few.

        An edit changes at most four of a word's three-letter pieces (a swap four, any other
        three), and an insertion or deletion moves the pieces after it by one place. Of any
        ``4 * limit + 1`` pieces of *word*, one at least is then in each word within the
        limit, no more than *limit* places from where it is in *word*. A name no created
        name is near (a container started elsewhere) has pieces, where they are, that no
        name has: the search ends there, where the walk of `within` would read every name
        that begins the same way. Near a crowd of names (``web-1`` … ``web-40``) the pieces
        name many, and the walk, which reads their common beginning once, is quicker.
        """
        needed = _PIECE_EDITS * limit + 1
        count = len(word) - _PIECE + 1
        if count < needed:
            return None
        if self._pieces is None:
            places: list[dict[str, list[str]]] = []
            for known in self.order:
                for i in range(len(known) - _PIECE + 1):
                    if i == len(places):
                        places.append({})
                    places[i].setdefault(known[i:i + _PIECE], []).append(known)
            self._pieces = places
        places = self._pieces
        postings = []
        for i in range(count):
            piece = word[i:i + _PIECE]
            near = [posting for place in places[max(0, i - limit):i + limit + 1]
                    if (posting := place.get(piece)) is not None]
            postings.append((sum(map(len, near)), near))
        postings.sort(key=lambda p: p[0])
        if sum(size for size, _ in postings[:needed]) > _FEW:
            return None
        return {known for _, near in postings[:needed] for posting in near for known in posting
                if abs(len(known) - len(word)) <= limit}

    def closest(self, word: str) -> str | None:
        """The indexed word *word* was probably meant to be; None when it is indexed itself."""
        if word in self.order:
            return None
        if word not in self._answers:
            self._answers[word] = self._closest(word)
        return self._answers[word]

    def _closest(self, word: str) -> str | None:
        limit = max_edits(word)
        best: tuple[int, int, str] | None = None
        few = self._candidates(word, limit)
        found = self.within(word, limit) if few is None else (
            (distance, candidate) for candidate in few
            if (distance := edit_distance(word, candidate, limit)) <= limit)
        for distance, candidate in found:
            if self.skip is not None and self.skip(word, candidate):
                continue
            key = (distance, self.order[candidate], candidate)
            if best is None or key < best:
                best = key
        return best[2] if best else None


def _next_row(rows: list[list[int]], word: str, candidate: str, d: int, limit: int) -> list[int]:
    """Distances from the first *d* characters of *candidate* to each beginning of *word*."""
    far = limit + 1
    prev = rows[d - 1]
    prev2 = rows[d - 2] if d >= 2 else None
    c = candidate[d - 1]
    before = candidate[d - 2] if d >= 2 else ""
    row = [far] * (len(word) + 1)
    if d <= limit:
        row[0] = d
    for j in range(max(1, d - limit), min(len(word), d + limit) + 1):
        best = prev[j - 1] + (c != word[j - 1])
        if prev[j] + 1 < best:
            best = prev[j] + 1
        if row[j - 1] + 1 < best:
            best = row[j - 1] + 1
        if prev2 is not None and j > 1 and c == word[j - 2] and before == word[j - 1] and prev2[j - 2] + 1 < best:
            best = prev2[j - 2] + 1
        row[j] = best if best < far else far
    return row
