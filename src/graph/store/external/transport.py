"""HTTP to an external SPARQL store: one pooled session per thread, timeouts, typed errors.

Failures map to the domain's errors (graph.core.errors), the ones the embedded store raises, so
that nothing above graph.store tells the two apart: an unreachable store or refused credentials
to 503 (StoreUnavailable), a store-side or client-side time limit to QueryTimeout, a query or
update the store rejects as malformed (400) to QuerySyntaxError.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from graph.core.errors import BadRequest, GraphError, QueryTimeout, StoreUnavailable
from graph.store.sparql import QuerySyntaxError

#: Seconds to wait for a TCP connection to the store.
CONNECT_TIMEOUT = 5.0
#: Seconds the client waits beyond the store's own limit, so the store's clean error wins.
GRACE = 2.0
#: Longest error text from the store quoted back to the user.
MAX_ERROR_TEXT = 2000

Params = Sequence[tuple[str, str]]
#: The domain's error for a request the store rejects as malformed, given the store's words.
Rejected = Callable[[str], BadRequest]


@dataclass(frozen=True)
class Credentials:
    """How to authenticate: a user and password (Basic or Digest) or a literal header."""

    user: str = ""
    password: str = ""
    authorization: str = ""
    scheme: str = "basic"

    def auth(self) -> AuthBase | None:
        """The requests authentication object, if a user is set."""
        if not self.user:
            return None
        if self.scheme == "digest":
            return HTTPDigestAuth(self.user, self.password)
        return HTTPBasicAuth(self.user, self.password)


class Transport:
    """Sends requests to one store; safe to share between threads (a session per thread)."""

    def __init__(self, credentials: Credentials, pool_size: int = 16) -> None:
        self._credentials = credentials
        self._pool_size = pool_size
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self._pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.auth = self._credentials.auth()
            if self._credentials.authorization:
                session.headers["Authorization"] = self._credentials.authorization
            # The store must not be steered to other hosts by redirects.
            session.max_redirects = 0
            self._local.session = session
        return session

    def send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        params: Params = (),
        data: bytes | list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        rejected: Rejected = QuerySyntaxError,
    ) -> requests.Response:
        """Send one request and return the response if its status is a success.

        :raises QueryTimeout: if the store does not answer within ``timeout`` seconds.
        :raises StoreUnavailable: if the store cannot be reached, refuses the credentials, or
            its answer breaks off.
        :raises QuerySyntaxError: if the store rejects the request as malformed (400), or the
            error ``rejected`` makes of the store's words (a request that is no SPARQL text).
        """
        try:
            response = self._session().request(
                method,
                url,
                params=list(params),
                data=data,
                headers=dict(headers or {}),
                timeout=(CONNECT_TIMEOUT, timeout + GRACE),
                allow_redirects=False,
            )
        except requests.Timeout:
            raise QueryTimeout(f"the external store did not answer within {timeout:g} s") from None
        except requests.ConnectionError as error:
            raise StoreUnavailable(
                f"the external store at {url} cannot be reached: {error}"
            ) from None
        except requests.RequestException as error:
            # The body broke off (the connection dropped, a chunk or the encoding is bad):
            # requests reads it whole before returning, so nothing of it was handed out.
            raise StoreUnavailable(
                f"the external store at {url} answered, but its answer cannot be read: {error}"
            ) from None
        if response.ok:
            return response
        raise _error_for(response, url, rejected, timeout)


def _error_for(
    response: requests.Response, url: str, rejected: Rejected, timeout: float
) -> GraphError:
    text = response.text.strip()[:MAX_ERROR_TEXT]
    status = response.status_code
    if status == 400:
        return rejected(f"rejected by the external store: {text}")
    if status in (401, 403):
        return StoreUnavailable(
            f"the external store at {url} refused the request ({status}); check KG_STORE_USER, "
            f"KG_STORE_PASSWORD or KG_STORE_AUTHORIZATION: {text}"
        )
    if _stopped_at_time_limit(text) or status == 504:
        return QueryTimeout(
            f"the external store stopped the query after {timeout:g} s, its time limit: {text}"
        )
    return StoreUnavailable(f"the external store at {url} answered {status}: {text}")


#: How stores say they stopped a query at its time limit. Virtuoso: S1TAT (anytime query),
#: or, when the limit cancels the statement mid-way, HY008 "SR203: Async statement killed by
#: SQLCancel" with status 500.
_TIME_LIMIT_MARKERS = ("timeout", "timed out", "s1tat", "sr203", "killed by sqlcancel")


def _stopped_at_time_limit(text: str) -> bool:
    """True when an error text says the store stopped the query at its time limit.

    >>> _stopped_at_time_limit("Virtuoso HY008 Error SR203: Async statement killed by SQLCancel.")
    True
    >>> _stopped_at_time_limit("Virtuoso 42000 Error SP030: SPARQL compiler, line 1: syntax")
    False
    """
    lowered = text.lower()
    return any(marker in lowered for marker in _TIME_LIMIT_MARKERS)
