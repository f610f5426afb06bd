"""The HTTP layer (Flask): the application factory, the SPARQL 1.1 Protocol and Graph Store
views, the pages, content negotiation, and errors rendered as responses in one place.

May import graph.answering and every layer below it; the only layer that imports Flask.
"""

from __future__ import annotations
