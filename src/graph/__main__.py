"""Allow ``python -m graph`` as a synonym of ``kg``."""

from __future__ import annotations

from graph.cli import main

if __name__ == "__main__":
    main()
