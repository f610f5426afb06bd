"""Validation against the SHACL shapes: pySHACL on parsed files, and the shapes compiled to
SPARQL checks that run inside a store, traced back to file and line.

May import graph.sources, graph.store and graph.core.
"""

from __future__ import annotations
