"""Answering queries and taking writes, with no HTTP in sight: deadlines, the SERVICE/LOAD
guard, the checked write path, exports and resource descriptions.

May import graph.build and every layer below it; never Flask or Werkzeug.
"""

from __future__ import annotations
