"""Alliance Graph: a knowledge graph of cooperation against online child sexual exploitation."""

from __future__ import annotations

__version__ = "0.1.0"
