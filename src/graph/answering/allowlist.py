"""Match SERVICE and LOAD targets against the allow-list as parsed URLs (issue 11, item 2).

An entry is a URL: a target is allowed when it has the same scheme, host and port and its path
starts with the entry's path on a segment boundary (``/sparql`` allows ``/sparql`` and
``/sparql/x``, not ``/sparqlx``). Both sides are normalised first as RFC 3986 section 6.2.2
says (https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2): case of scheme, host and
percent-escapes, unreserved characters decoded, dot segments removed, the scheme's default port.

The engine's HTTP client reads URLs by the WHATWG rules, which differ from RFC 3986 on exotic
input (a backslash is a slash, tabs vanish, ``%2e`` in a host is decoded ...). So anything on
which the two could disagree is refused rather than read: user-info, characters outside RFC
3986's set, a host that is not plain letters, digits, hyphens and dots (or a bracketed IPv6
address), ``%`` in the host.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: RFC 3986 section 3 with the pieces this check needs; anything else is refused.
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)"
    r"(?P<path>[^?#]*)(?:\?[^#]*)?(?:#.*)?",
    re.DOTALL,
)
_ALLOWED_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.?")
_IPV6 = re.compile(r"\[[0-9a-f:.]+\]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class NotAllowedUrl(ValueError):
    """A target or allow-list entry that is not a URL this check can read safely."""


@dataclass(frozen=True)
class Endpoint:
    """A URL reduced to what the allow-list compares: scheme, host, port and path segments."""

    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]

    def within(self, entry: Endpoint) -> bool:
        """True when this URL is on ``entry``'s origin and under its path.

        >>> parse("http://a.example/sparql/x").within(parse("http://a.example/sparql"))
        True
        >>> parse("http://a.example/sparqlx").within(parse("http://a.example/sparql"))
        False
        """
        prefix = entry.segments[:-1] if entry.segments[-1:] == ("",) else entry.segments
        return (self.scheme, self.host, self.port) == (
            entry.scheme,
            entry.host,
            entry.port,
        ) and self.segments[: len(prefix)] == prefix


def parse(url: str) -> Endpoint:
    """``url`` normalised for comparison.

    >>> parse("HTTP://Example.ORG:80/a/./b/../%7euser/")
    Endpoint(scheme='http', host='example.org', port=80, segments=('a', '~user', ''))

    :raises NotAllowedUrl: naming what makes ``url`` unsafe to read.
    """
    if not _ALLOWED_CHARS.fullmatch(url):
        raise NotAllowedUrl("it has characters a URL may not have")
    match = _URL.fullmatch(url)
    if match is None:
        raise NotAllowedUrl("it is not an absolute URL with a host")
    scheme = match["scheme"].lower()
    if scheme not in _DEFAULT_PORTS:
        raise NotAllowedUrl(f"its scheme is {scheme}, not http or https")
    host, port = _authority(match["authority"], scheme)
    path = _remove_dot_segments(_normalise_escapes(match["path"]) or "/")
    return Endpoint(scheme, host, port, tuple(path.split("/")[1:]))


def _authority(authority: str, scheme: str) -> tuple[str, int]:
    if "@" in authority:
        raise NotAllowedUrl("it has user-info (name@host)")
    host, port_text = authority.lower(), ""
    if not host.endswith("]") and ":" in host:
        host, _, port_text = host.rpartition(":")
    if not (_HOST.fullmatch(host) or _IPV6.fullmatch(host)):
        raise NotAllowedUrl("its host is not a plain host name or IP address")
    if port_text and not (port_text.isdigit() and len(port_text) <= 5 and int(port_text) < 65536):
        raise NotAllowedUrl("its port is not a number from 0 to 65535")
    port = int(port_text) if port_text else _DEFAULT_PORTS[scheme]
    return host.rstrip("."), port


def _normalise_escapes(path: str) -> str:
    """Upper-case hex in escapes; unreserved characters decoded (RFC 3986 sections 6.2.2.1-2)."""

    def one(match: re.Match[str]) -> str:
        byte = int(match[1], 16)
        return chr(byte) if byte in _UNRESERVED else f"%{byte:02X}"

    if re.search(r"%(?![0-9A-Fa-f]{2})", path):
        raise NotAllowedUrl("it has a % that starts no escape")
    return _ESCAPE.sub(one, path)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 on an absolute path.

    >>> _remove_dot_segments("/a/b/c/./../../g")
    '/a/g'
    """
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        elif segment == ".":
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def allowed(target: str, allowlist: Sequence[str]) -> bool:
    """True when ``target`` is within an entry of ``allowlist``.

    >>> allowed("http://a.example/sparql", ["http://a.example"])
    True
    >>> allowed("http://a.example@127.0.0.1/", ["http://a.example"])
    Traceback (most recent call last):
    graph.answering.allowlist.NotAllowedUrl: it has user-info (name@host)

    :raises NotAllowedUrl: when ``target`` cannot be read safely (it is refused either way).
    """
    endpoint = parse(target)
    return any(endpoint.within(parse(entry)) for entry in allowlist)


def check_entries(allowlist: Sequence[str]) -> None:
    """Refuse an allow-list with an entry that is not a URL this check can read.

    :raises NotAllowedUrl: naming the entry.
    """
    for entry in allowlist:
        try:
            parse(entry)
        except NotAllowedUrl as error:
            raise NotAllowedUrl(f"service_allowlist entry {entry!r}: {error}") from None
