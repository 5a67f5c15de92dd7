"""The `wms` command: help on every command, config check, schema upgrade."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from web.cli import main
from wms.db import Database
from wms.db.migrate import is_current


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["db"],
        ["db", "upgrade"],
        ["demo"],
        ["serve"],
        ["import"],
        ["check-config"],
        ["user"],
        ["user", "add"],
        ["user", "token"],
    ],
)
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output
    assert len(result.output.splitlines()) > 3


def test_check_config_accepts_the_shipped_file():
    result = CliRunner().invoke(main, ["--config", "config.yaml", "check-config"])
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output


def test_check_config_stops_on_a_bad_value(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("server:\n  port: not-a-port\n")
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"])
    assert result.exit_code == 2
    assert "server.port = 'not-a-port'" in result.output


def test_serve_refuses_a_database_without_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    result = CliRunner().invoke(main, ["--config", "config.yaml", "serve", "--database", url])
    assert result.exit_code == 2
    assert "wms db upgrade" in result.output
    # Refused before gevent patches the process (here: the whole test run).
    from web.server import gevent_patched

    assert not gevent_patched()


def test_db_upgrade_builds_the_schema(db_url):
    result = CliRunner().invoke(
        main, ["--config", "config.yaml", "db", "upgrade", "--database", db_url]
    )
    assert result.exit_code == 0, result.output
    db = Database(db_url)
    try:
        assert is_current(db.engine)
        assert {"movement", "stock", "order", "scan_event"} <= set(
            inspect(db.engine).get_table_names()
        )
    finally:
        db.dispose()


def test_add_a_user_then_issue_a_token_that_works(db_url):
    runner = CliRunner()
    base = ["--config", "config.yaml"]
    assert runner.invoke(main, [*base, "db", "upgrade", "--database", db_url]).exit_code == 0
    added = runner.invoke(
        main,
        [*base, "user", "add", "erp", "--role", "integration", "--database", db_url],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(
        main,
        [*base, "user", "add", "erp", "--role", "admin", "--no-password", "--database", db_url],
    )
    assert again.exit_code == 1
    assert "already exists" in again.output
    issued = runner.invoke(main, [*base, "user", "token", "erp", "--database", db_url])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    db = Database(db_url)
    try:
        with db.write() as session:
            from wms.access import user_for_token

            found = user_for_token(session, token)
            assert found is not None and found.username == "erp"
    finally:
        db.dispose()
