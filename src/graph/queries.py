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

#: Figures VoID asks for (https://www.w3.org/TR/void/#statistics), over the union graph.
DATASET_FIGURES: Final = """
SELECT (COUNT(*) AS ?triples)
       (COUNT(DISTINCT ?s) AS ?subjects)
       (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects)
WHERE { GRAPH ?g { ?s ?p ?o } }
"""

DATASET_TYPES: Final = """
SELECT (COUNT(DISTINCT ?class) AS ?classes) (COUNT(DISTINCT ?entity) AS ?entities)
WHERE { GRAPH ?g { ?entity a ?class } }
"""

#: Is the store reachable and not empty?
ANY_TRIPLE: Final = "ASK { GRAPH ?g { ?s ?p ?o } }"
