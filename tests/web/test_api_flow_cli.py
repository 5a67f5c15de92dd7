"""The order-flow commands: `wms allocate`, `wms waves plan|list|release`, `wms release`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from web.cli import main
from web.cli_flow import register
from wms.catalog import NewItem, NewLocation, create_item, create_location, item_by_sku
from wms.db import Database, ledger
from wms.model import LocationType, OrderKind
from wms.orders import NewOrder, NewOrderLine, create_order

register(main)  # what web/cli.py does; registering twice changes nothing

BASE = ["--config", "config.yaml"]


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, [*BASE, *args])


@pytest.mark.parametrize(
    "command",
    [["allocate"], ["waves"], ["waves", "plan"], ["waves", "list"], ["waves", "release"]]
    + [["release"]],
)
def test_every_flow_command_explains_itself(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    assert len(result.output.splitlines()) > 3


def test_the_commands_refuse_a_database_without_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    for command in (["allocate"], ["waves", "list"], ["release", "--continuous"]):
        result = _run(*command, "--database", url)
        assert result.exit_code == 2, result.output
        assert "wms db upgrade" in result.output


@pytest.fixture
def site(db_url: str) -> Iterator[str]:
    """A migrated database with a few pick faces, stock and orders not yet allocated."""
    upgraded = _run("db", "upgrade", "--database", db_url)
    assert upgraded.exit_code == 0, upgraded.output
    db = Database(db_url)
    try:
        with db.write() as session:
            create_location(session, NewLocation("PACK-1", "S", LocationType.PACK_STATION))
            for n, (aisle, x) in enumerate((("01", 0.0), ("01", 0.0), ("02", 3.0)), start=1):
                create_location(
                    session,
                    NewLocation(
                        f"A-{n}", "A", LocationType.PICK_FACE, aisle=aisle, x=x, y=float(n)
                    ),
                )
            for sku in ("MUG", "PLATE", "BOWL"):
                create_item(session, NewItem(sku, f"Item {sku}"))
        with db.write() as session:
            for sku, location, quantity in (("MUG", 1, 10), ("PLATE", 2, 1), ("BOWL", 3, 10)):
                ledger.receive(
                    session,
                    item_id=item_by_sku(session, sku).id,
                    location_id=_location_id(session, f"A-{location}"),
                    quantity=quantity,
                )
            orders = {
                "C-1": [("MUG", 2)],
                "C-2": [("BOWL", 1), ("MUG", 1)],
                "C-3": [("PLATE", 3)],
                "C-4": [("PLATE", 1)],
            }
            for number, lines in orders.items():
                create_order(
                    session,
                    NewOrder(
                        number,
                        OrderKind.B2C,
                        [NewOrderLine(sku, q) for sku, q in lines],
                        carrier="DHL",
                    ),
                )
    finally:
        db.dispose()
    return db_url


def _location_id(session, code: str) -> int:
    from wms.catalog import location_by_code

    return location_by_code(session, code).id


def _counts(result: Result) -> dict[str, int]:
    assert result.exit_code == 0, result.output
    found = re.findall(r"^\s+(\w+)\s+(\d+)$", result.output, re.MULTILINE)
    return {status: int(n) for status, n in found}


def test_allocate_plan_list_and_release_from_the_command_line(site):
    allocated = _run("allocate", "--database", site)
    assert allocated.exit_code == 0, allocated.output
    assert "Allocation ran for 4 order(s); they are now:" in allocated.output
    assert _counts(allocated) == {"allocated": 2, "partly_allocated": 1, "backordered": 1}
    retried = _run("allocate", "--database", site)  # the two short of stock are tried again
    assert _counts(retried) == {"allocated": 0, "partly_allocated": 1, "backordered": 1}

    planned = _run("waves", "plan", "--database", site)
    assert planned.exit_code == 0, planned.output
    assert "Planned 1 wave(s):" in planned.output
    code = re.search(r"(W\d{8}-\d{6}-\d{3})\s+3 order\(s\)", planned.output)
    assert code, planned.output
    wave = code.group(1)
    assert "No allocated order waits" in _run("waves", "plan", "--database", site).output

    listed = _run("waves", "list", "--status", "planned", "--database", site)
    assert listed.exit_code == 0 and wave in listed.output and "planned" in listed.output

    released = _run("waves", "release", wave, "--database", site)
    assert released.exit_code == 0, released.output
    assert f"Released 3 order(s) in wave {wave}:" in released.output
    assert "4 pick task(s)" in released.output and "batches: B" in released.output
    again = _run("waves", "release", wave, "--database", site)
    assert again.exit_code == 1 and f"wave {wave} is already released" in again.output
    assert _run("waves", "list", "--status", "planned", "--database", site).output == "No waves.\n"

    nothing = _run("release", "--continuous", "--database", site)
    assert nothing.exit_code == 0 and nothing.output == "Nothing released.\n"
    usage = _run("release", "--database", site)
    assert usage.exit_code == 2 and "--continuous" in usage.output


def test_continuous_release_from_the_command_line(site):
    assert _run("allocate", "--database", site).exit_code == 0
    released = _run("release", "--continuous", "--max-orders", "2", "--database", site)
    assert released.exit_code == 0, released.output
    assert released.output.startswith("Released 2 order(s) in wave C")
    rest = _run("release", "--continuous", "--database", site)
    assert rest.output.startswith("Released 1 order(s) in wave C")
    listed = _run("waves", "list", "--database", site)
    assert listed.output.count("released") == 2
