"""Source documents and passages as a reference work shows them (issue 14): the facts each
passage supports and a citation ready to copy (plain text, BibTeX, CSL-JSON).

Provenance is modelled per node (data/README.md): every fact node carries
``prov:wasDerivedFrom`` the passages (lines) it comes from, and a derivation ``prov:used`` them.
A passage therefore supports the nodes that point to it, with what the same named graph (the
document's file) says about them; a node derived from several lines is listed under each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.answering import labels, queries
from graph.core.links import compact, link_target, prefixes
from graph.store import Literal, NamedNode, QuerySolutions, Store, run_query, sparql_term


@dataclass(frozen=True)
class Value:
    """A value as a page shows it: text, link (or None) and whether it is a literal."""

    text: str
    href: str | None = None
    literal: bool = False


@dataclass
class Fact:
    """A node a passage supports, with its statements in the document's graph."""

    node: Value
    statements: list[tuple[Value, Value]] = field(default_factory=list)


@dataclass
class Passage:
    """One line of a document and the facts it supports."""

    iri: str
    line: str
    href: str | None
    facts: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class Citation:
    """What is known to cite a document (and a line of it)."""

    iri: str
    title: str
    publisher: str = ""
    issued: str = ""
    genre: str = ""
    seed: str = ""
    line: str = ""

    def text(self) -> str:
        """A plain-text reference: publisher (date). Title [genre], line N. IRI.

        >>> Citation("https://w3id.org/x", "A title", "UK Government", "2017-11-14",
        ...          "World news story", line="5").text()
        'UK Government (2017-11-14). A title [World news story], line 5. https://w3id.org/x'
        """
        who = self.publisher or "Unknown publisher"
        when = f" ({self.issued})" if self.issued else " (n.d.)"
        genre = f" [{self.genre}]" if self.genre else ""
        line = f", line {self.line}" if self.line else ""
        return f"{who}{when}. {self.title}{genre}{line}. {self.iri}"

    def bibtex(self, key: str) -> str:
        r"""A BibTeX ``@misc`` entry (biblatex ``date``; special characters escaped).

        >>> print(Citation("https://w3id.org/x", "50% & more", "UK", "2017-11-14").bibtex("k"))
        @misc{k,
          title = {50\% \& more},
          organization = {UK},
          date = {2017-11-14},
          year = {2017},
          url = {https://w3id.org/x}
        }
        """
        fields = [
            ("title", _tex(self.title)),
            ("organization", _tex(self.publisher)),
            ("date", _tex(self.issued)),
            ("year", self.issued[:4] if re.match(r"\d{4}", self.issued) else ""),
            ("howpublished", _tex(self.genre)),
            ("note", f"line {self.line}" if self.line else ""),
            ("url", _tex(self.iri)),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        return f"@misc{{{re.sub(r'[^A-Za-z0-9_:-]', '-', key)},\n{body}\n}}"

    def csl_json(self, key: str) -> str:
        """A CSL-JSON item (https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html)."""
        item: dict[str, Any] = {"id": key, "type": "article", "title": self.title, "URL": self.iri}
        if self.publisher:
            item["publisher"] = self.publisher
            item["author"] = [{"literal": self.publisher}]
        if re.fullmatch(r"\d{4}(-\d{2}){0,2}", self.issued):
            item["issued"] = {"date-parts": [[int(part) for part in self.issued.split("-")]]}
        if self.genre:
            item["genre"] = self.genre
        if self.line:
            item["locator"] = self.line
            item["label"] = "line"
        return json.dumps([item], ensure_ascii=False, indent=2)


_TEX_SPECIAL = re.compile(r"([\\{}%&#$_^~])")


def _tex(value: str) -> str:
    return _TEX_SPECIAL.sub(lambda m: "\\" + m.group(1) if m.group(1) not in "\\^~" else " ", value)


class Provenance:
    """Reads documents, their passages and the facts each passage supports."""

    def __init__(
        self, store: Store, base: str, languages: Sequence[str] = labels.DEFAULT_LANGUAGES
    ) -> None:
        self.store, self.base, self.languages = store, base, tuple(languages)
        self.names = prefixes(base)

    def select(self, text: str, **bindings: NamedNode) -> list[Any]:
        rows = run_query(self.store, text, bindings=bindings, prefixes=self.names)
        assert isinstance(rows, QuerySolutions)
        return list(rows)

    def citation(self, document: str, line: str = "", cited: str | None = None) -> Citation:
        """The citation of ``document`` (of its ``line``, the passage ``cited``, when given)."""
        rows = self.select(queries.CITATION, document=NamedNode(document))
        row = rows[0] if rows else None

        def text(name: str) -> str:
            term = row[name] if row is not None else None
            return term.value if term is not None else ""

        publisher = text("publisher")
        if publisher and row is not None and isinstance(row["publisher"], NamedNode):
            named = labels.best_labels(self.store, [publisher], self.base, self.languages)
            publisher = labels.label_or_name(named, publisher, self.base)
        title = text("title") or labels.label_or_name({}, document, self.base)
        return Citation(
            cited or document, title, publisher, text("issued"), text("genre"), text("seed"), line
        )

    def passages(self, document: str, only: str | None = None) -> list[Passage]:
        """The passages of ``document`` by line, with the facts of each; with ``only`` (one
        passage), that passage alone, each fact with its statements."""
        rows = self.select(queries.DOCUMENT_PASSAGES, document=NamedNode(document))
        found: dict[str, Passage] = {}
        facts: dict[str, list[str]] = {}  # passage -> fact IRIs, in order
        pairs: dict[tuple[str, str], None] = {}  # (fact, graph) whose statements to show
        for row in rows:
            iri = row["passage"].value
            if only is not None and iri != only:
                continue
            line = row["line"].value if row["line"] is not None else ""
            found.setdefault(iri, Passage(iri, line, link_target(iri, self.base)))
            fact = row["fact"]
            if isinstance(fact, NamedNode):
                pairs[(fact.value, row["graph"].value)] = None
                if fact.value not in facts.setdefault(iri, []):
                    facts[iri].append(fact.value)
        statements = self._statements(list(pairs)) if only is not None else {}
        mentioned = [fact for listed in facts.values() for fact in listed]
        mentioned += [v.text for told in statements.values() for _, v in told if not v.literal]
        named = labels.best_labels(self.store, mentioned, self.base, self.languages)
        for iri, passage in found.items():
            passage.facts = [
                Fact(self.value(fact, named), self._named(statements.get(fact, []), named))
                for fact in facts.get(iri, [])
            ]
        return list(found.values())

    def _statements(self, pairs: list[tuple[str, str]]) -> dict[str, list[tuple[str, Value]]]:
        out: dict[str, list[tuple[str, Value]]] = {}
        for start in range(0, len(pairs), 300):
            chunk = pairs[start : start + 300]
            values = " ".join(
                f"({sparql_term(NamedNode(f))} {sparql_term(NamedNode(g))})" for f, g in chunk
            )
            text = queries.FACT_STATEMENTS.format(pairs=values)
            for row in self.select(text):
                value = row["value"]
                node = (
                    Value(value.value, None, True)
                    if isinstance(value, Literal)
                    else Value(value.value)
                )
                out.setdefault(row["fact"].value, []).append((row["property"].value, node))
        return out

    def value(self, iri: str, named: dict[str, str]) -> Value:
        return Value(labels.label_or_name(named, iri, self.base), link_target(iri, self.base))

    def _named(
        self, statements: list[tuple[str, Value]], named: dict[str, str]
    ) -> list[tuple[Value, Value]]:
        out = []
        for prop, value in statements:
            shown = value if value.literal else self.value(value.text, named)
            out.append((Value(compact(prop, self.base), link_target(prop, self.base)), shown))
        return out


@dataclass
class PageProvenance:
    """What a passage's or a document's page shows about its provenance role."""

    kind: str  # "passage" or "document"
    citation: Citation
    key: str
    passages: list[Passage]
    document: Value | None = None


def page_provenance(
    store: Store,
    iri: str,
    types: Sequence[str],
    base: str,
    languages: Sequence[str] = labels.DEFAULT_LANGUAGES,
) -> PageProvenance | None:
    """The provenance part of the page of ``iri`` (whose classes are ``types``): a passage's
    facts and citation, a document's passages and citation, or None for any other resource."""
    ag = prefixes(base)["ag"]
    reader = Provenance(store, base, languages)
    if ag + "Passage" in types:
        rows = reader.select(queries.PASSAGE_DOCUMENT, passage=NamedNode(iri))
        if not rows:
            return None
        document = rows[0]["document"].value
        line = rows[0]["line"].value if rows[0]["line"] is not None else ""
        named = labels.best_labels(store, [document], base, languages)
        return PageProvenance(
            "passage",
            reader.citation(document, line, iri),
            _key(document, base) + (f"-line-{line}" if line else ""),
            reader.passages(document, only=iri),
            reader.value(document, named),
        )
    if ag + "SourceDocument" in types or ag + "ReferenceSource" in types:
        return PageProvenance(
            "document", reader.citation(iri), _key(iri, base), reader.passages(iri)
        )
    return None


def _key(iri: str, base: str) -> str:
    """A citation key: the last segment of the IRI.

    >>> _key("https://w3id.org/alliance-graph/id/source/gov-uk-2017", "https://w3id.org/alliance-graph/")
    'gov-uk-2017'
    """
    return iri.rstrip("/").rpartition("/")[2] or compact(iri, base)
