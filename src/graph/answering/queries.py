"""SPARQL the application itself runs, kept out of the code that runs it."""

from __future__ import annotations

from typing import Final

#: Triples of the default graph: each once, however many named graphs state it (issue 17).
COUNT_TRIPLES: Final = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

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

#: Figures VoID asks for (https://www.w3.org/TR/void/#statistics), over the default graph (the
#: set of every triple: void:triples counts a triple once, however many graphs state it).
DATASET_FIGURES: Final = """
SELECT (COUNT(*) AS ?triples)
       (COUNT(DISTINCT ?s) AS ?subjects)
       (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects)
WHERE { ?s ?p ?o }
"""

DATASET_TYPES: Final = """
SELECT (COUNT(DISTINCT ?class) AS ?classes) (COUNT(DISTINCT ?entity) AS ?entities)
WHERE { ?entity a ?class }
"""

#: Is the store reachable and not empty?
ANY_TRIPLE: Final = "ASK { GRAPH ?g { ?s ?p ?o } }"

# --- Resource pages (graph.http.pages.resource). ?resource is bound by the caller, never pasted in;
# Oxigraph substitutes only projected variables, so SELECTs project it. Prefixes (ag:, rdfs:...)
# come from graph.core.links.prefixes(base) so that they follow the base IRI setting.

RESOURCE_EXISTS: Final = "ASK { { ?resource ?p ?o } UNION { ?s ?p ?resource } }"

#: What a resource says (with the graph each statement is in; labels: graph.answering.labels).
RESOURCE_OUT: Final = """
SELECT ?resource ?graph ?property ?value WHERE {
  GRAPH ?graph { ?resource ?property ?value }
} ORDER BY ?property ?value LIMIT 2000
"""

#: What points to a resource: each link once, however many graphs state it (issue 17).
RESOURCE_IN: Final = """
SELECT DISTINCT ?resource ?subject ?property WHERE {
  ?subject ?property ?resource
} ORDER BY ?property ?subject LIMIT 2000
"""

#: The source documents described in the named graphs a resource's statements are in.
RESOURCE_GRAPH_SOURCES: Final = """
SELECT DISTINCT ?resource ?graph ?document ?title WHERE {
  GRAPH ?graph { { ?resource ?p ?o } UNION { ?s ?p ?resource } }
  GRAPH ?graph { ?document a ?documentClass
                 VALUES ?documentClass { ag:SourceDocument ag:ReferenceSource } }
  OPTIONAL { ?document dcterms:title ?title }
} ORDER BY ?graph ?document
"""

#: The passages (lines of source documents) a resource was derived from.
RESOURCE_PASSAGES: Final = """
SELECT ?resource ?passage ?line ?document ?title WHERE {
  ?resource prov:wasDerivedFrom ?passage .
  OPTIONAL { ?passage ag:lineNumber ?line }
  OPTIONAL { ?passage dcterms:isPartOf ?document OPTIONAL { ?document dcterms:title ?title } }
} ORDER BY ?document ?line ?passage
"""

#: The linked-data document of a resource: its statements, what points to it, one level of
#: blank nodes, and the labels of its neighbours (so a client can show them).
RESOURCE_DESCRIPTION: Final = """
CONSTRUCT {
  ?resource ?p ?o . ?o ?bp ?bo . ?s ?ip ?resource . ?n ?lp ?nl .
} WHERE {
  { ?resource ?p ?o OPTIONAL { FILTER(isBlank(?o)) ?o ?bp ?bo } }
  UNION { ?s ?ip ?resource }
  UNION { { ?resource ?x ?n } UNION { ?n ?x ?resource } FILTER(isIRI(?n))
          VALUES ?lp { rdfs:label skos:prefLabel } ?n ?lp ?nl }
}
"""

#: Everything in one named graph (the ontology's document is its graph).
GRAPH_CONTENT: Final = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?graph { ?s ?p ?o } }"

# --- Graph pictures and exports (graph.answering.export).

#: The whole graph as triples (the default graph: every triple of the named graphs, once).
ALL_TRIPLES: Final = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"

# --- Dataset description (graph.http.pages.dataset).

COUNT_ENTITIES: Final = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o FILTER(isIRI(?s)) }"

DISTINCT_PREDICATES: Final = "SELECT DISTINCT ?p WHERE { ?s ?p ?o } ORDER BY ?p"

#: One instance each of a few classes readers start from (a country, an alliance, a source).
EXAMPLE_RESOURCES: Final = """
SELECT ?class (MIN(STR(?resource)) AS ?example) WHERE {
  VALUES ?class { ag:Country ag:Alliance ag:Organization ag:SourceDocument ag:Agreement }
  ?resource a ?class FILTER(isIRI(?resource))
} GROUP BY ?class ORDER BY ?class
"""

# --- Labels and classes of many nodes at once (graph.answering.labels). ``{nodes}`` is a list
# of IRIs written as SPARQL terms by graph.store.sparql_term, never text from a request.

#: Every literal that can name a node, and for a passage its document's title and line
#: (graph.answering.labels ranks them).
LABEL_CANDIDATES: Final = """
SELECT ?node ?property ?label ?line WHERE {{
  VALUES ?node {{ {nodes} }}
  {{ VALUES ?property {{ {properties} }} ?node ?property ?label FILTER(isLiteral(?label)) }}
  UNION
  {{ ?node ag:lineNumber ?line ; dcterms:isPartOf ?document .
     ?document dcterms:title ?label BIND(ag:lineNumber AS ?property) }}
}}
"""

#: The classes of each node.
NODE_CLASSES: Final = """
SELECT ?node ?class WHERE {{ VALUES ?node {{ {nodes} }} ?node a ?class FILTER(isIRI(?class)) }}
"""

# --- Neighbourhoods (graph.answering.neighbourhood): the resource pages' pictures and the
# explorer. ?focus is bound by the caller; the ontology's and the shapes' graphs are left out
# (data apart from the ontology), and so are types (they colour the nodes instead).

#: The links of ?focus, both ways, leaving out passages unless ?passages is true or ?focus is one
#: (graph.answering.neighbourhood reads at most 200 rows).
NEIGHBOURS: Final = """
SELECT DISTINCT ?focus ?passages ?ontologyGraph ?shapesGraph ?direction ?property ?other WHERE {
  { GRAPH ?g { ?focus ?property ?other } BIND("out" AS ?direction) }
  UNION
  { GRAPH ?g { ?other ?property ?focus } BIND("in" AS ?direction) }
  FILTER(isIRI(?other) && ?other != ?focus && ?property != rdf:type)
  FILTER(?g != ?ontologyGraph && ?g != ?shapesGraph)
  FILTER(?passages || EXISTS { ?focus a ag:Passage } || NOT EXISTS { ?other a ag:Passage })
} ORDER BY ?property ?direction ?other LIMIT 200
"""

#: Where the explorer starts when not told: the alliance with most statements, else a country,
#: else any resource.
DEFAULT_FOCUS: Final = """
SELECT ?resource WHERE {
  { { SELECT ?resource (COUNT(*) AS ?size) WHERE { ?resource a ag:Alliance ; ?p ?o }
      GROUP BY ?resource } BIND(1 AS ?rank) }
  UNION { { SELECT ?resource WHERE { ?resource a ag:Country } LIMIT 1 } BIND(2 AS ?rank) }
  UNION { { SELECT ?resource WHERE { ?resource ?p ?o FILTER(isIRI(?resource)) } LIMIT 1 }
          BIND(9 AS ?rank) }
  FILTER(isIRI(?resource))
} ORDER BY ?rank DESC(?size) ?resource LIMIT 1
"""

#: Resources whose label holds ?text (case-insensitively), shortest labels first.
FIND_BY_LABEL: Final = """
SELECT ?text ?resource (MIN(STR(?label)) AS ?found) WHERE {
  VALUES ?property { skos:prefLabel rdfs:label foaf:name schema:name dcterms:title skos:altLabel }
  ?resource ?property ?label
  FILTER(isIRI(?resource) && isLiteral(?label) && CONTAINS(LCASE(STR(?label)), LCASE(?text)))
} GROUP BY ?text ?resource ORDER BY STRLEN(?found) ?found LIMIT 10
"""

# --- Provenance pages (graph.answering.provenance): ?document and ?passage are bound by the
# caller; ``{pairs}`` is a VALUES list of (fact graph) IRI pairs written by graph.store.sparql_term.

#: What a citation of a document needs (any of it may be missing).
CITATION: Final = """
SELECT ?document ?title ?publisher ?issued ?genre ?seed WHERE {
  OPTIONAL { ?document dcterms:title ?title }
  OPTIONAL { ?document dcterms:publisher ?publisher }
  OPTIONAL { ?document dcterms:issued|schema:datePublished ?issued }
  OPTIONAL { ?document schema:genre ?genre }
  OPTIONAL { ?document ag:seedFile ?seed }
} LIMIT 1
"""

#: The passages of a document by line, each with the nodes derived from it (or using it) and
#: the graph that says so.
DOCUMENT_PASSAGES: Final = """
SELECT ?document ?passage ?line ?fact ?graph WHERE {
  ?passage dcterms:isPartOf ?document .
  OPTIONAL { ?passage ag:lineNumber ?line }
  OPTIONAL { GRAPH ?graph { ?fact prov:wasDerivedFrom|prov:used ?passage } }
} ORDER BY ?line ?passage ?fact LIMIT 2000
"""

#: What the same graph says about each fact node (its provenance links aside).
FACT_STATEMENTS: Final = """
SELECT ?fact ?property ?value WHERE {{
  VALUES (?fact ?graph) {{ {pairs} }}
  GRAPH ?graph {{ ?fact ?property ?value }}
  FILTER(?property NOT IN (prov:wasDerivedFrom, prov:used, ag:derivation))
}} ORDER BY ?fact ?property ?value LIMIT 5000
"""

#: The document a passage is part of, and its line.
PASSAGE_DOCUMENT: Final = """
SELECT ?passage ?document ?line WHERE {
  ?passage dcterms:isPartOf ?document OPTIONAL { ?passage ag:lineNumber ?line }
} ORDER BY ?document LIMIT 1
"""

# --- The ontology page (graph.answering.vocabulary). ?ontologyGraph and ?shapesGraph are bound
# by the caller.

#: The classes and properties the ontology declares, with the kind of each.
ONTOLOGY_TERMS: Final = """
SELECT ?ontologyGraph ?term ?kind WHERE {
  VALUES ?kind { owl:Class rdfs:Class owl:ObjectProperty owl:DatatypeProperty
                 owl:AnnotationProperty rdf:Property }
  GRAPH ?ontologyGraph { ?term a ?kind } FILTER(isIRI(?term))
} ORDER BY ?term
"""

#: What the ontology says of its terms: definitions, super-terms, domains and ranges.
ONTOLOGY_FACTS: Final = """
SELECT ?ontologyGraph ?term ?property ?value WHERE {
  VALUES ?property { rdfs:comment skos:definition rdfs:subClassOf rdfs:subPropertyOf
                     rdfs:domain rdfs:range owl:inverseOf owl:equivalentClass skos:altLabel }
  GRAPH ?ontologyGraph { ?term ?property ?value }
  FILTER(isIRI(?term) && (isIRI(?value) || isLiteral(?value)))
  FILTER(!isLiteral(?value) || LANG(?value) = "" || LANGMATCHES(LANG(?value), "en"))
}
"""

#: The ontology's own description (title, description, version, licence).
ONTOLOGY_HEADER: Final = """
SELECT ?ontologyGraph ?ontology ?property ?value WHERE {
  GRAPH ?ontologyGraph { ?ontology a owl:Ontology ; ?property ?value }
  VALUES ?property { dcterms:title dcterms:description owl:versionInfo dcterms:license
                     rdfs:label rdfs:comment }
}
"""

#: Each constraint of the shapes on a property of the instances of a class.
SHAPE_CONSTRAINTS: Final = """
SELECT ?shapesGraph ?shape ?target ?constraint ?path ?min ?max ?datatype ?class ?nodeKind
       ?pattern ?message (GROUP_CONCAT(DISTINCT STR(?orClass); separator=" ") AS ?alternatives)
WHERE { GRAPH ?shapesGraph {
  ?shape sh:targetClass ?target ; sh:property ?constraint . ?constraint sh:path ?path .
  FILTER(isIRI(?path))
  OPTIONAL { ?constraint sh:minCount ?min } OPTIONAL { ?constraint sh:maxCount ?max }
  OPTIONAL { ?constraint sh:datatype ?datatype } OPTIONAL { ?constraint sh:class ?class }
  OPTIONAL { ?constraint sh:nodeKind ?nodeKind } OPTIONAL { ?constraint sh:pattern ?pattern }
  OPTIONAL { ?constraint sh:message ?message
             FILTER(LANG(?message) = "" || LANGMATCHES(LANG(?message), "en")) }
  OPTIONAL { ?constraint sh:or/rdf:rest*/rdf:first/sh:class ?orClass }
} }
GROUP BY ?shapesGraph ?shape ?target ?constraint ?path ?min ?max ?datatype ?class ?nodeKind
         ?pattern ?message
ORDER BY ?target ?path
"""

# --- Reconciliation and search (graph.answering.reconcile, issue 15). Prefixes from
# graph.core.links.prefixes(base).

#: Every name of every IRI: the labels people look things up by.
RECONCILE_LABELS: Final = """
SELECT ?entity ?property ?label WHERE {
  VALUES ?property { skos:prefLabel foaf:name dcterms:title rdfs:label skos:altLabel ag:acronym }
  ?entity ?property ?label FILTER(isIRI(?entity) && isLiteral(?label))
}
"""

#: The types of every IRI (the ones without a name are left out by the caller: cheaper than a
#: FILTER EXISTS per row).
RECONCILE_TYPES: Final = "SELECT ?entity ?type WHERE { ?entity a ?type FILTER(isIRI(?type)) }"

#: The classes of the ontology (and of the vocabularies it reuses) with their direct
#: superclasses and English labels.
RECONCILE_CLASSES: Final = """
SELECT ?class ?super ?label WHERE {
  { ?class a owl:Class } UNION { ?class rdfs:subClassOf ?any }
  FILTER(isIRI(?class))
  OPTIONAL { ?class rdfs:subClassOf ?super FILTER(isIRI(?super)) }
  OPTIONAL { ?class rdfs:label ?label FILTER(LANGMATCHES(LANG(?label), "en") || LANG(?label) = "") }
}
"""

#: The values of one property (a path from graph.answering.reconcile.extension, never text
#: from a request) for the entities in ``{entities}`` (IRIs written by pyoxigraph's NamedNode).
RECONCILE_VALUES: Final = """
SELECT ?entity ?value WHERE {{ VALUES ?entity {{ {entities} }} ?entity {path} ?value }}
"""

#: The entities holding one of some values on a property (a path from
#: graph.answering.reconcile.extension); ``{iris}`` and ``{texts}`` are terms written by
#: pyoxigraph (NamedNode, Literal), never text from a request.
RECONCILE_HOLDERS: Final = """
SELECT DISTINCT ?entity ?value WHERE {{
  ?entity {path} ?value FILTER(isIRI(?entity))
  FILTER(?value IN ({iris}) || LCASE(STR(?value)) IN ({texts}))
}} LIMIT {limit}
"""
