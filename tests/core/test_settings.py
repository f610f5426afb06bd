"""Settings: declared once, overridable by environment and explicitly."""

from __future__ import annotations

from graph.core.settings import BY_NAME, SETTINGS, resolve


def test_every_setting_has_help_and_a_kg_variable() -> None:
    for setting in SETTINGS:
        assert setting.help.endswith("."), setting.name
        assert setting.env == "KG_" + setting.name.upper()


def test_environment_parsing() -> None:
    values = resolve(environ={"KG_SERVICE_ALLOWLIST": "https://a/, https://b/", "KG_PORT": "81"})
    assert values["service_allowlist"] == ("https://a/", "https://b/")
    assert values["port"] == 81
    assert resolve(environ={})["write_token"] == ""
    assert BY_NAME["query_timeout"].parse("1.5") == 1.5
