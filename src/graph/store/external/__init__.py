"""An external SPARQL 1.1 store (Oxigraph server, Virtuoso, Fuseki) behind the part of
pyoxigraph.Store's API the application uses: endpoints, HTTP transport, query text.
"""

from __future__ import annotations
