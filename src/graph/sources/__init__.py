"""Source files: where the ontology, shapes and curated data are, and which named graph
each file is loaded into (the first stage of the pipeline).

May import graph.store (to parse files) and graph.core.
"""

from __future__ import annotations
