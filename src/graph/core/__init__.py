"""Declarations every layer shares: IRIs and prefixes, typed errors, settings, SPARQL lexis.

The bottom layer: it imports nothing from the rest of the package (nor pyoxigraph or Flask).
"""

from __future__ import annotations
