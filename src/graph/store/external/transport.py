"""HTTP to an external SPARQL store: one pooled session per thread, timeouts, typed errors.

Failures map to the domain's errors (graph.core.errors), the ones the embedded store raises, so
that nothing above graph.store tells the two apart: an unreachable store or refused credentials
to 503 (StoreUnavailable), a store-side or client-side time limit to QueryTimeout, a query or
update the store rejects as malformed (400) to QuerySyntaxError, an answer over the size limit to
ResultTooLarge. A store's whole answer, not each read of it, must arrive within the time limit:
a store trickling bytes, or answering without end, is cut off there (requests' own timeout
bounds one read of the socket, not the answer).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from graph.core.errors import (
    BadRequest,
    GraphError,
    QueryTimeout,
    ResultTooLarge,
    StoreUnavailable,
)
from graph.store.external.deadlines import DEADLINES
from graph.store.sparql import QuerySyntaxError

#: Seconds to wait for a TCP connection to the store.
CONNECT_TIMEOUT = 5.0
#: Seconds the client waits beyond the store's own limit, so the store's clean error wins.
GRACE = 2.0
#: Longest error text from the store quoted back to the user.
MAX_ERROR_TEXT = 2000
#: Bytes read from the store's answer at a time.
READ_SIZE = 64 * 1024
#: Bytes read of an error answer: enough for MAX_ERROR_TEXT characters of UTF-8.
ERROR_BYTES = 4 * MAX_ERROR_TEXT

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

    def __init__(
        self, credentials: Credentials, pool_size: int = 16, *, max_answer_bytes: int = 0
    ) -> None:
        self._credentials = credentials
        self._pool_size = pool_size
        #: Largest answer read from the store, in bytes; 0 means no limit.
        self.max_answer_bytes = max_answer_bytes
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

        :raises QueryTimeout: if the store's whole answer does not arrive within ``timeout``
            seconds (and the grace).
        :raises StoreUnavailable: if the store cannot be reached, refuses the credentials,
            redirects, or its answer breaks off.
        :raises ResultTooLarge: if the answer is over ``max_answer_bytes``.
        :raises QuerySyntaxError: if the store rejects the request as malformed (400), or the
            error ``rejected`` makes of the store's words (a request that is no SPARQL text).
        """
        deadline = time.monotonic() + CONNECT_TIMEOUT + timeout + GRACE
        try:
            # Never redirected: the store must not be steered to other hosts (_error_for).
            response = self._session().request(
                method,
                url,
                params=list(params),
                data=data,
                headers=dict(headers or {}),
                timeout=(CONNECT_TIMEOUT, timeout + GRACE),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            raise QueryTimeout(f"the external store did not answer within {timeout:g} s") from None
        except requests.ConnectionError as error:
            raise StoreUnavailable(
                f"the external store at {url} cannot be reached: {error}"
            ) from None
        except requests.RequestException as error:
            raise StoreUnavailable(
                f"the external store at {url} answered, but its answer cannot be read: {error}"
            ) from None
        # The body is read whole before the response is handed out, so nothing of an answer
        # that breaks off, runs late or grows too large is ever used; of an error, only the
        # start that is quoted.
        seconds = deadline - time.monotonic()
        if 200 <= response.status_code < 300:
            response._content = _read_answer(response, url, seconds, self.max_answer_bytes, timeout)
            return response
        response._content = _read_answer(response, url, seconds, ERROR_BYTES, timeout, start=True)
        raise _error_for(response, url, rejected, timeout)


def _read_answer(
    response: requests.Response,
    url: str,
    seconds: float,
    limit: int,
    timeout: float,
    *,
    start: bool = False,
) -> bytes:
    """The body of ``response``, read within ``seconds`` and up to ``limit`` bytes (0: any);
    with ``start``, its first ``limit`` bytes, the rest left unread.

    The socket is shut down at the deadline (:data:`DEADLINES`), which ends a read blocked
    on it.

    :raises QueryTimeout: past the deadline.
    :raises ResultTooLarge: over ``limit``.
    :raises StoreUnavailable: if the body breaks off.
    """
    late = threading.Event()

    def cut_off() -> None:
        late.set()
        # ValueError, RuntimeError: the connection is back in the pool, the read has ended.
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            response.raw.shutdown()

    watched = DEADLINES.watch(time.monotonic() + seconds, cut_off)
    body = bytearray()
    try:
        for chunk in response.iter_content(READ_SIZE):
            body += chunk
            if limit and len(body) > limit:
                response.close()
                if start:
                    return bytes(body[:limit])
                raise ResultTooLarge(
                    f"the external store's answer is over {limit / 2**20:g} MiB"
                    " (KG_QUERY_MEMORY_MB)"
                )
    except requests.RequestException as error:
        if not late.is_set():
            raise StoreUnavailable(
                f"the external store at {url} answered, but its answer cannot be read: {error}"
            ) from None
    finally:
        DEADLINES.forget(watched)
    if late.is_set():
        response.close()
        raise QueryTimeout(
            f"the external store's answer did not arrive whole within {timeout:g} s (the"
            f" time limit, with {GRACE:g} s of grace and {CONNECT_TIMEOUT:g} s to connect)"
        )
    return bytes(body)


def _error_for(
    response: requests.Response, url: str, rejected: Rejected, timeout: float
) -> GraphError:
    text = _words(response)
    status = response.status_code
    if response.is_redirect:
        return StoreUnavailable(
            f"the external store at {url} answered {status}, a redirect to"
            f" {response.headers.get('Location', '')[:MAX_ERROR_TEXT]!r}; redirects are not"
            " followed: give the store's own URL"
        )
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


def _words(response: requests.Response) -> str:
    """The start of the store's error text, decoded without guessing: ``response.text``
    guesses the charset of a body that names none over all of it (1.8 s for 50 MB)."""
    head = (response.content or b"")[:ERROR_BYTES]
    try:
        text = head.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = head.decode("utf-8", errors="replace")
    return text.strip()[:MAX_ERROR_TEXT]


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
