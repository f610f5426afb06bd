"""Building the graph: parse every source file, validate it, load a new store generation
(embedded) or switch staged graphs (an external store).

May import graph.validation, graph.sources, graph.store and graph.core.
"""

from __future__ import annotations
