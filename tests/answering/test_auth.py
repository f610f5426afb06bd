"""Write access needs a configured token and the same token as a bearer credential."""

from __future__ import annotations

import pytest

from graph.answering.auth import require_write_access
from graph.core.errors import Forbidden, Unauthorized


def test_writes_off_without_a_configured_token() -> None:
    with pytest.raises(Forbidden):
        require_write_access("", "Bearer x")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer wrong"])
def test_missing_or_wrong_credentials(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        require_write_access("right", header)


def test_right_token() -> None:
    require_write_access("right", "Bearer right")
    require_write_access("right", "bearer right")
