"""Reconciliation and search: names matched as people write them (issue 15).

``names`` folds a name to the form it is compared in; ``index`` holds every label of the graph
and ranks candidates with rapidfuzz; ``loading`` builds the index from a store through SPARQL
(so an external store works too), once per store version; ``service`` answers the W3C
Reconciliation Service API v0.2 (https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/)
without HTTP; ``extension`` proposes and fetches property values (data extension).
Imports only graph.answering's own modules and the layers below it.
"""
