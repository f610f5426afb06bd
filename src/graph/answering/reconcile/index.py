"""Every name the graph holds, folded and indexed, ranked against a query with rapidfuzz.

A query is compared with the labels that share a word with it (or a word one or two letters
away, for misspellings), never with every label: an exact folded name or the same words in
another order are found through dictionaries, the rest through an inverted index of words, so
a query costs about the same on a thousand names as on a million.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from graph.answering.reconcile.names import fold, initials, words

#: Labels scored per query at most: the shortest of a common word's labels first.
CANDIDATE_CAP = 1000
#: Labels scored at most when a query shares only common words (each in more than
#: CANDIDATE_CAP labels) with the graph: the shortest holding all of them.
COMMON_CAP = 200
#: Lowest score (0-100) a candidate is returned with.
SCORE_CUTOFF = 50.0
#: Labels an autocompletion looks at, at most (the shortest of each word's first).
PREFIX_BUDGET = 2000
#: A match is certain (``match: true``) at this score or above ...
MATCH_SCORE = 90.0
#: ... when the next other entity scores at least this much less.
MATCH_MARGIN = 8.0
#: An acronym made from a name's initials counts a little less than a label the graph holds.
INITIALS_FACTOR = 0.96


@dataclass(frozen=True, slots=True)
class Entity:
    """A named thing of the graph: its IRI, display name, types (with their superclasses)."""

    iri: str
    name: str
    types: tuple[str, ...]
    description: str = ""
    all_types: frozenset[str] = field(default=frozenset(), compare=False)


@dataclass(frozen=True)
class Candidate:
    """An entity a query may stand for, with its score (0-100) and whether it is certain."""

    entity: Entity
    score: float
    label: str
    match: bool = False


@dataclass
class _Labels:
    """The folded labels, the entity each names and the weight of the label."""

    text: list[str] = field(default_factory=list)
    words: list[tuple[str, ...]] = field(default_factory=list)
    entity: list[int] = field(default_factory=list)
    weight: list[float] = field(default_factory=list)


class NameIndex:
    """The names of ``entities``, each entity with the labels given for it.

    >>> honduras = Entity("http://e.org/hn", "Honduras", ("http://e.org/Country",))
    >>> index = NameIndex([(honduras, ["Honduras", "República de Honduras"])])
    >>> [(c.entity.name, c.score, c.match) for c in index.search("HONDURA")]
    [('Honduras', 93.3, True)]
    """

    def __init__(self, named: Iterable[tuple[Entity, Sequence[str]]]) -> None:
        self.entities: list[Entity] = []
        self._labels = _Labels()
        self._exact: dict[str, list[int]] = {}
        self._postings: dict[str, list[int]] = {}
        for entity, labels in named:
            self._add(entity, labels)
        for postings in self._postings.values():
            postings.sort(key=lambda label: len(self._labels.text[label]))
        self._vocabulary = sorted(self._postings)
        self._by_length: dict[int, list[str]] = {}
        for word in self._vocabulary:
            if word.isalpha():
                self._by_length.setdefault(len(word), []).append(word)
        self._sorted_labels = sorted(
            range(len(self._labels.text)), key=self._labels.text.__getitem__
        )
        self._sorted_text = [self._labels.text[i] for i in self._sorted_labels]

    def __len__(self) -> int:
        return len(self.entities)

    def _add(self, entity: Entity, labels: Sequence[str]) -> None:
        number = len(self.entities)
        self.entities.append(entity)
        seen: set[str] = set()
        for label in labels:
            folded = fold(label)
            if folded and folded not in seen:
                seen.add(folded)
                self._add_label(folded, number, 1.0)
        for folded in list(seen):
            acronym = initials(folded)
            if acronym and acronym not in seen:
                seen.add(acronym)
                self._add_label(acronym, number, INITIALS_FACTOR)

    def _add_label(self, folded: str, entity: int, weight: float) -> None:
        label = len(self._labels.text)
        # Interned: a word of many labels is held once (a million triples hold ~160k labels).
        split = tuple(dict.fromkeys(sys.intern(word) for word in words(folded)))
        self._labels.text.append(folded)
        self._labels.words.append(split)
        self._labels.entity.append(entity)
        self._labels.weight.append(weight)
        self._exact.setdefault(folded, []).append(label)
        if len(split) > 1:
            self._exact.setdefault(" ".join(sorted(split)), []).append(label)
        for word in split:
            self._postings.setdefault(word, []).append(label)

    def search(
        self, query: str, *, accept: frozenset[int] | None = None, limit: int = 10
    ) -> list[Candidate]:
        """The entities ``query`` may name, best first, at most ``limit``.

        ``accept`` (entity numbers) keeps only those entities, e.g. the ones of a type. The
        first candidate is a ``match`` when it scores at least :data:`MATCH_SCORE` and every
        other entity at least :data:`MATCH_MARGIN` less.
        """
        folded = fold(query)
        if not folded:
            return []
        labels = self._candidates(folded)
        if accept is not None:
            labels = [label for label in labels if self._labels.entity[label] in accept]
        choices = {label: self._labels.text[label] for label in labels}
        # An entity has a few labels: the best few times ``limit`` labels hold its best entities.
        scored = process.extract(
            folded,
            choices,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=SCORE_CUTOFF,
            limit=4 * max(limit, 2) + 8,
        )
        best: dict[int, tuple[float, int]] = {}
        for _text, score, label in scored:
            entity = self._labels.entity[label]
            weighted = score * self._labels.weight[label]
            if weighted > best.get(entity, (-1.0, 0))[0]:
                best[entity] = (weighted, label)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], self.entities[item[0]].name))
        found = [
            Candidate(self.entities[entity], round(score, 1), self._labels.text[label])
            for entity, (score, label) in ranked[: max(limit, 2)]
        ]
        return decide(found)[:limit]

    def _candidates(self, folded: str) -> list[int]:
        """Labels worth scoring: same name, same words in another order, or a shared word
        (the rarest words first, at most :data:`CANDIDATE_CAP` labels)."""
        split = words(folded)
        found = set(self._exact.get(folded, ()))
        found.update(self._exact.get(" ".join(sorted(split)), ()))
        lists = sorted((self._postings_near(word) for word in set(split)), key=len)
        lists = [postings for postings in lists if postings]
        if not lists:
            return list(found)
        if len(lists[0]) > CANDIDATE_CAP:
            # Only common words: the shortest labels holding all of them (postings are sorted
            # by length), looking through a bounded number.
            wanted = {word for word in split if word in self._postings}
            for label in lists[0][: 20 * COMMON_CAP]:
                if all(word in self._labels.words[label] for word in wanted):
                    found.add(label)
                    if len(found) >= COMMON_CAP:
                        break
            return list(found)
        for postings in lists:
            if len(found) + len(postings) > CANDIDATE_CAP and found:
                break
            found.update(postings[:CANDIDATE_CAP])
        return list(found)

    def _postings_near(self, word: str) -> list[int]:
        """The labels holding ``word``, or a word a letter or two away from it (misspellings)."""
        exact = self._postings.get(word)
        if exact is not None or len(word) < 4 or not word.isalpha():
            return exact or []
        near: list[int] = []
        for length in (len(word) - 1, len(word), len(word) + 1):
            pool = self._by_length.get(length, [])
            for other, _score, _ in process.extract(
                word, pool, scorer=fuzz.ratio, score_cutoff=75, limit=3
            ):
                # Enough to tell a common word (and its shortest labels), no more.
                near.extend(self._postings[other][: 20 * COMMON_CAP])
        return near

    def prefixed(
        self, prefix: str, *, accept: frozenset[int] | None = None, limit: int = 10
    ) -> list[Candidate]:
        """Entities with a name starting with ``prefix``, or a word of it: autocompletion.

        >>> iom = Entity("http://e.org/iom", "IOM", ())
        >>> index = NameIndex([(iom, ["International Organization for Migration"])])
        >>> [c.entity.name for c in index.prefixed("migr")]
        ['IOM']
        >>> [c.entity.name for c in index.prefixed("migration internat")]
        ['IOM']
        """
        folded = fold(prefix)
        if not folded:
            return []
        ranked: dict[int, tuple[float, int]] = {}
        for label in self._labels_starting(folded):
            self._keep(ranked, label, 100.0, accept)
        # Else the name's words in any order, the last one still being typed.
        *whole, last = words(folded)
        start = bisect.bisect_left(self._vocabulary, last)
        budget = PREFIX_BUDGET  # labels looked at, whatever the prefix ("s" starts many words)
        for word in self._vocabulary[start : start + 50]:
            if not word.startswith(last) or budget <= 0:
                break
            postings = self._postings[word][:budget]
            budget -= len(postings)
            for label in postings:
                if all(done in self._labels.words[label] for done in whole):
                    self._keep(ranked, label, 80.0, accept)
        order = sorted(
            ranked.items(),
            key=lambda item: (
                -item[1][0],
                len(self._labels.text[item[1][1]]),
                self.entities[item[0]].name,
            ),
        )
        return [
            Candidate(self.entities[entity], score, self._labels.text[label])
            for entity, (score, label) in order[:limit]
        ]

    def _labels_starting(self, folded: str) -> list[int]:
        start = bisect.bisect_left(self._sorted_text, folded)
        found: list[int] = []
        for position in range(start, min(start + 200, len(self._sorted_text))):
            if not self._sorted_text[position].startswith(folded):
                break
            found.append(self._sorted_labels[position])
        return found

    def _keep(
        self,
        ranked: dict[int, tuple[float, int]],
        label: int,
        score: float,
        accept: frozenset[int] | None,
    ) -> None:
        entity = self._labels.entity[label]
        if accept is not None and entity not in accept:
            return
        score *= self._labels.weight[label]
        if score > ranked.get(entity, (-1.0, 0))[0]:
            ranked[entity] = (score, label)


def decide(ranked: list[Candidate]) -> list[Candidate]:
    """``ranked`` (best first) with the first a ``match`` if it is certain: a score of at least
    :data:`MATCH_SCORE` and every other candidate at least :data:`MATCH_MARGIN` below it.

    >>> a, b = Entity("http://e.org/a", "A", ()), Entity("http://e.org/b", "B", ())
    >>> [c.match for c in decide([Candidate(a, 95.0, "a"), Candidate(b, 90.0, "b")])]
    [False, False]
    >>> [c.match for c in decide([Candidate(a, 95.0, "a"), Candidate(b, 80.0, "b")])]
    [True, False]
    """
    found = [Candidate(c.entity, c.score, c.label) for c in ranked]
    if found and found[0].score >= MATCH_SCORE:
        runner_up = found[1].score if len(found) > 1 else 0.0
        if found[0].score - runner_up >= MATCH_MARGIN:
            found[0] = Candidate(found[0].entity, found[0].score, found[0].label, True)
    return found
