"""The SERVICE allow-list compares parsed, normalised URLs, never string prefixes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.answering.allowlist import NotAllowedUrl, allowed, check_entries, parse

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
HOST = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
SEGMENT = st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True).filter(
    lambda s: s not in (".", "..")
)
PATH = st.lists(SEGMENT, max_size=4).map(lambda parts: "/" + "/".join(parts))
SCHEME = st.sampled_from(["http", "https"])


def _encode_unreserved(path: str) -> str:
    return "".join(f"%{ord(c):02x}" if c.isalnum() else c for c in path)


@given(SCHEME, HOST, PATH)
def test_equivalent_spellings_of_one_url_are_treated_alike(
    scheme: str, host: str, path: str
) -> None:
    """RFC 3986 section 6.2.2: case, escapes of unreserved characters, dot segments, default
    port."""
    entry = f"{scheme}://{host}{path}"
    default_port = 80 if scheme == "http" else 443
    for spelling in (
        f"{scheme.upper()}://{host.upper()}{path}",
        f"{scheme}://{host}:{default_port}{path}",
        f"{scheme}://{host}{_encode_unreserved(path)}",
        f"{scheme}://{host}/x/..{path}",
        f"{scheme}://{host}/./{path.lstrip('/')}",
    ):
        assert allowed(spelling, [entry]), spelling


@given(SCHEME, HOST, PATH, st.from_regex(r"[a-z0-9.:\[\]-]{1,20}", fullmatch=True))
def test_user_info_is_refused_whatever_follows(
    scheme: str, host: str, path: str, other: str
) -> None:
    entry = f"{scheme}://{host}"
    with pytest.raises(NotAllowedUrl, match="user-info"):
        allowed(f"{scheme}://{host}@{other}{path}", [entry])


@given(HOST, HOST, PATH)
def test_another_host_is_never_allowed(host: str, other: str, path: str) -> None:
    if host.rstrip(".") == other.rstrip("."):
        return
    assert not allowed(f"http://{other}{path}", [f"http://{host}"])


@given(HOST, SEGMENT, SEGMENT)
def test_path_prefix_ends_on_a_segment_boundary(host: str, segment: str, more: str) -> None:
    entry = f"http://{host}/{segment}"
    assert allowed(f"http://{host}/{segment}", [entry])
    assert allowed(f"http://{host}/{segment}/{more}", [entry])
    assert not allowed(f"http://{host}/{segment}{more}", [entry])
    if more != segment:
        assert not allowed(f"http://{host}/{segment}/../{more}", [entry])


@pytest.mark.parametrize(
    "target",
    [
        "http://allowed.example@127.0.0.1:8080/",
        "http://allowed.example:@127.0.0.1/",
        "http://allowed.example\\@127.0.0.1/",
        "http://allowed.example%2f@127.0.0.1/",
        "http://allowed.example%2e/",
        "http://allowed.example\t/",
        "http://allowed.example /",
        "http://allowed.exämple/",
        "http://allowed.example:99999/",
        "http://allowed.example:-1/",
        "file:///etc/passwd",
        "ftp://allowed.example/",
        "//allowed.example/",
        "sparql",
        "http:allowed.example",
        "http://allowed.example/a%zz",
    ],
)
def test_urls_the_engine_could_read_differently_are_refused(target: str) -> None:
    with pytest.raises(NotAllowedUrl):
        allowed(target, ["http://allowed.example"])


def test_port_and_scheme_must_match() -> None:
    assert not allowed("http://allowed.example:8080/", ["http://allowed.example"])
    assert not allowed("https://allowed.example/", ["http://allowed.example"])
    assert allowed("http://[::1]:7878/sparql", ["http://[::1]:7878/"])
    assert not allowed("http://allowed.example.evil.test/", ["http://allowed.example"])


def test_a_bad_entry_is_named() -> None:
    check_entries(["https://query.wikidata.org/sparql"])
    with pytest.raises(NotAllowedUrl, match="'http://a@b/'"):
        check_entries(["http://a@b/"])
    assert parse("http://A.example./").host == "a.example"
