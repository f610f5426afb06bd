"""The ontology page, generated from the ontology and the shapes (issue 14)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from graph.answering.vocabulary import read_vocabulary, shapes_store
from graph.core.namespaces import CANONICAL_BASE
from graph.store import open_store
from tests.paths import ROOT


def test_classes_and_properties_apart_with_definitions_and_shapes(client: FlaskClient) -> None:
    page = client.get("/ontology.html").get_data(as_text=True)
    classes = page[page.index('<section id="classes"') : page.index('<section id="properties"')]
    properties = page[page.index('<section id="properties"') :]
    assert 'id="Country"' in classes and 'id="Country"' not in properties
    assert 'id="ofCountry"' in properties and 'id="ofCountry"' not in classes
    country = classes[classes.index('id="Country"') :]
    country = country[: country.index("</section>")]
    assert "ISO 3166-1, with its alpha-2 and alpha-3 codes" in country  # rdfs:comment
    assert 'href="https://schema.org/Country"' in country  # super-class
    assert "CountryShape" in country and "1..1" in country  # the shape's constraints
    of_country = properties[properties.index('id="ofCountry"') :]
    of_country = of_country[: of_country.index("</section>")]
    assert re.search(r"<th>Range</th><td><a href=\"/ontology#Country\"", of_country)


def test_every_declared_term_is_on_the_page_once(project_store: object) -> None:
    store = open_store(str(project_store), read_only=True)
    vocabulary = read_vocabulary(store, CANONICAL_BASE, shapes_store(str(ROOT), CANONICAL_BASE))
    anchors = [t.anchor for t in vocabulary.classes + vocabulary.properties]
    assert len(anchors) == len(set(anchors))
    assert {"Country", "Passage"} <= {t.anchor for t in vocabulary.classes}
    assert all(
        t.kind in ("object", "datatype", "annotation", "property") for t in vocabulary.properties
    )
