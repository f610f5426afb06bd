"""Where each IRI under the graph's base lives on this server, and back.

A resource IRI ``{base}id/country/honduras`` is served on the path ``/id/country/honduras``
whatever host the server runs on; pages link to local paths so that a person browsing a copy
of the graph stays on it.
"""

from __future__ import annotations

from urllib.parse import quote

from graph.core.namespaces import PREFIXES, rebase

#: Characters left as they are when an IRI's path becomes a URL path: RFC 3986 unreserved,
#: sub-delims, ":", "@", "/", and "%" (an IRI that is already percent-encoded stays so).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%#"


def local_path(iri: str, base: str) -> str | None:
    """The path that serves ``iri`` on this server, or None for an IRI outside ``base``.

    >>> local_path("https://w3id.org/alliance-graph/id/place/são-paulo", "https://w3id.org/alliance-graph/")
    '/id/place/s%C3%A3o-paulo'
    >>> local_path("https://w3id.org/alliance-graph/ontology#Country", "https://w3id.org/alliance-graph/")
    '/ontology#Country'
    >>> print(local_path("http://www.wikidata.org/entity/Q783", "https://w3id.org/alliance-graph/"))
    None
    """
    if not iri.startswith(base):
        return None
    return "/" + quote(iri[len(base) :], safe=_PATH_SAFE)


#: The only schemes a page links to or navigates to: anything else (``javascript:``, ``data:``,
#: ``vbscript:``, ``file:`` ...) in a stored or constructed IRI stays text (issue 11, item 5).
LINKABLE_SCHEMES = ("http", "https")


def link_target(iri: str, base: str) -> str | None:
    """Where a link to ``iri`` goes: its local path, the IRI itself when its scheme is http(s),
    else None (the IRI is shown, never linked).

    >>> link_target("https://w3id.org/alliance-graph/id/country/honduras", "https://w3id.org/alliance-graph/")
    '/id/country/honduras'
    >>> link_target("http://www.wikidata.org/entity/Q783", "https://w3id.org/alliance-graph/")
    'http://www.wikidata.org/entity/Q783'
    >>> print(link_target("JavaScript:alert(1)", "https://w3id.org/alliance-graph/"))
    None
    """
    local = local_path(iri, base)
    if local is not None:
        # "//host/..." would leave this server (a network-path reference, RFC 3986 4.2).
        return "/%2F" + local[2:] if local.startswith("//") else local
    scheme, colon, _ = iri.partition(":")
    if colon and scheme.lower() in LINKABLE_SCHEMES and iri[len(scheme) + 1 :].startswith("//"):
        return iri
    return None


def uri_reference(path: str) -> str:
    """A decoded request path (Werkzeug's ``request.path``) as a percent-encoded URI path.

    Header values that hold a URI reference (``Link``, ``Content-Location``) must be ASCII:
    RFC 3987 section 3.1 maps an IRI's other characters to ``%XX`` of their UTF-8 bytes.

    >>> uri_reference("/id/place/são-paulo 100%.ttl")
    '/id/place/s%C3%A3o-paulo%20100%25.ttl'
    """
    return quote(path, safe=_PATH_SAFE[:-2])


def iri_candidates(path: str, base: str) -> list[str]:
    """The IRIs a decoded request path may stand for, most literal first.

    Werkzeug decodes ``%XX`` in paths, so ``/id/place/caf%C3%A9`` arrives as ``café``: the IRI
    may be written with the character (an IRI) or percent-encoded (a URI). Both are tried.

    >>> iri_candidates("id/place/o'neill-100%", "https://w3id.org/alliance-graph/")[1]
    "https://w3id.org/alliance-graph/id/place/o'neill-100%25"
    """
    iri_form = "".join(ch if ord(ch) > 127 else quote(ch, safe=_PATH_SAFE[:-2]) for ch in path)
    uri_form = quote(path, safe=_PATH_SAFE[:-2])
    candidates = [base + path, base + iri_form, base + uri_form]
    return list(dict.fromkeys(candidates))


def prefixes(base: str) -> dict[str, str]:
    """The project's prefixes with IRIs moved to ``base`` (what query writers see).

    >>> prefixes("http://localhost:5000/")["ag"]
    'http://localhost:5000/ontology#'
    """
    return {name: rebase(iri, base) for name, iri in PREFIXES.items()}


def compact(iri: str, base: str) -> str:
    """A prefixed name for ``iri`` when a prefix covers it, else the IRI itself.

    >>> compact("http://www.w3.org/2000/01/rdf-schema#label", "https://w3id.org/alliance-graph/")
    'rdfs:label'
    >>> compact("https://w3id.org/alliance-graph/id/country/honduras", "https://w3id.org/alliance-graph/")
    'id:country/honduras'
    """
    best = ""
    name = ""
    for prefix, namespace in prefixes(base).items():
        if iri.startswith(namespace) and len(namespace) > len(best):
            best, name = namespace, prefix
    return f"{name}:{iri[len(best) :]}" if best else iri
