"""SPARQL the application itself runs, kept out of the code that runs it."""

from __future__ import annotations

from typing import Final

COUNT_TRIPLES: Final = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

COUNT_GRAPHS: Final = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

TRIPLES_PER_GRAPH: Final = """
SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } }
GROUP BY ?graph ORDER BY ?graph
"""

INSTANCES_PER_CLASS: Final = """
SELECT ?class (COUNT(DISTINCT ?instance) AS ?instances)
WHERE { ?instance a ?class }
GROUP BY ?class ORDER BY DESC(?instances) ?class
"""

# Updates the Graph Store Protocol runs (https://www.w3.org/TR/sparql11-http-rdf-update/#http-put
# and following), each written as one SPARQL update so that Oxigraph applies it in one
# transaction. ``graph`` is ``DEFAULT`` or ``GRAPH <iri>``; ``data`` is ground quads.
CREATE_GRAPH: Final = "CREATE SILENT GRAPH {graph}"
CLEAR_GRAPH: Final = "CLEAR SILENT {graph}"
DROP_GRAPH: Final = "DROP SILENT {graph}"
INSERT_DATA: Final = "INSERT DATA {{\n{data}\n}}"
