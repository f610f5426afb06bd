"""Serving the HTTP application in processes: granian (read-only) or gunicorn (writable),
worker replacement after a runaway, the memory allocator.

May import graph.http and every layer below it.
"""

from __future__ import annotations
