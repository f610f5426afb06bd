"""Write access: off unless a token is configured, then only with ``Authorization: Bearer``."""

from __future__ import annotations

import hmac

from graph.core.errors import Forbidden, Unauthorized


def require_write_access(configured_token: str, authorization: str | None) -> None:
    """Allow a write only when writes are on and the request carries the token.

    >>> require_write_access("s3cret", "Bearer s3cret")
    >>> require_write_access("", "Bearer anything")
    Traceback (most recent call last):
    ...
    graph.core.errors.Forbidden: writes are switched off on this server (no write token configured)

    :raises Forbidden: if writes are switched off.
    :raises Unauthorized: if the token is missing or wrong.
    """
    if not configured_token:
        raise Forbidden("writes are switched off on this server (no write token configured)")
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise Unauthorized("this write needs an 'Authorization: Bearer <token>' header")
    # Constant-time comparison, so the token cannot be guessed from response timings.
    if not hmac.compare_digest(presented.strip().encode(), configured_token.encode()):
        raise Unauthorized("the bearer token is not valid")
