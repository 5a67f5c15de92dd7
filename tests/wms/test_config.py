"""config.yaml is validated at start, with messages that name the key, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from wms.config import ConfigError, load_settings, parse_settings

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_config_is_valid():
    settings = load_settings(REPO / "config.yaml", env={})
    assert settings.database.url.startswith("sqlite:////")  # made absolute, next to the file
    assert settings.database.url.endswith("/var/wms.sqlite3")
    assert {z.code for z in settings.zones} >= {"A", "B", "R", "S"}
    assert settings.labels.gs1_company_prefix.isdigit()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"server": {"port": 70000}}, "server.port = 70000: Input should be less than or equal"),
        ({"language": "de"}, "language = 'de': expected one of en, fr, nl"),
        ({"database": {"url": "mysql://x"}}, "database.url = 'mysql://x': expected a SQLite URL"),
        ({"labels": {"gs1_company_prefix": "12ab"}}, "labels.gs1_company_prefix = '12ab'"),
        ({"langage": "fr"}, "langage: unknown key"),
        ({"zones": [{"code": "A", "name": "x", "kind": "flying"}]}, "zones.0.kind = 'flying'"),
        (
            {"devices": [{"name": "bus", "kind": "ptl_bus", "driver": "g", "url": "http://x"}]},
            "devices.0.url = 'http://x': expected a serial port",
        ),
        (
            {
                "devices": [
                    {"name": "bus", "kind": "ptl_bus", "driver": "g", "url": "loop://", "zone": "Q"}
                ]
            },
            "names zone 'Q', which is not among zones",
        ),
        ({"printers": [{"name": "p1", "url": "http://printer"}]}, "expected tcp://host:9100"),
    ],
)
def test_a_bad_value_names_key_value_and_expectation(data, expected):
    with pytest.raises(ConfigError) as error:
        parse_settings(data)
    assert expected in str(error.value)


def test_environment_overrides_the_database(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_text("database:\n  url: sqlite:///a.sqlite3\n")
    settings = load_settings(path, env={"WMS_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert settings.database.url == "postgresql+psycopg://u@h/db"
    relative = load_settings(path, env={})
    assert relative.database.url == f"sqlite:///{tmp_path}/a.sqlite3"


def test_wms_config_picks_another_file(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text("site_name: Ghent DC\n")
    assert load_settings(env={"WMS_CONFIG": str(path)}).site_name == "Ghent DC"


def test_missing_file_and_broken_yaml_are_reported(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml", env={})
    broken = tmp_path / "broken.yaml"
    broken.write_text("server: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken, env={})
