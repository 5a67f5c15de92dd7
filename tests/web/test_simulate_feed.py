"""`wms simulate` keeps the demo floor busy: waves released when few carts wait, new orders fed.

The server is `wms demo --no-simulate` (it releases only the waves of the first cut-off); the
simulator runs as `wms simulate` in a subprocess and the tests read the database.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web.served_demo import clean_env, served_demo
from web.simulate import FlowTally, ShiftLead, SimulationOptions, Supervisor, next_collection
from wms.db import Database
from wms.db.schema import Order, OrderLine, User, Wave
from wms.model import OrderKind, OrderStatus, WaveStatus


@pytest.fixture(scope="module")
def demo_floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], str, str]]:
    """`wms demo --no-simulate` serving a small warehouse: (wms command, url, database url)."""
    with served_demo(tmp_path_factory.mktemp("simulated-feed")) as served:
        yield served


def test_the_lead_releases_only_when_few_carts_wait(demo_floor):
    """Real API, real database: enough carts waiting, nothing; one short, the earliest wave."""
    _wms, url, database_url = demo_floor
    before = _floor(database_url)
    planned = {c for c, (s, _) in before["waves"].items() if s is WaveStatus.PLANNED}
    assert len(planned) >= 2, before
    boss = Supervisor(url, "super", "super-demo")
    try:
        waiting = boss.waiting_carts()
        assert waiting > 0  # the demo released the first cut-off's waves
        options = SimulationOptions(url=url, badges=("SIM-0001",))
        # As many carts wait as the lead wants: no release, nothing changes.
        assert ShiftLead(boss, options, release_below=waiting).release_round() == 0
        assert _floor(database_url)["waves"] == before["waves"]
        # One cart short: the planned wave of the earliest cut-off goes to the floor.
        earliest = boss.planned_waves()[0]
        lead = ShiftLead(boss, options, release_below=waiting + 1)
        assert lead.release_round() >= 1
        assert boss.waiting_carts() >= waiting + 1
    finally:
        boss.http.close()
    after = _floor(database_url)["waves"]
    released = {c for c in planned if after[c][0] is not WaveStatus.PLANNED}
    assert earliest["code"] in released and after[earliest["code"]][1] == "super"
    assert len(released) == lead.tally.waves_released < len(planned)
    db = Database(database_url)
    try:
        with db.read() as session:
            cut_offs = dict(session.execute(select(Wave.code, Wave.cut_off)).all())
    finally:
        db.dispose()
    assert all(cut_offs[earliest["code"]] <= cut_offs[c] for c in planned)


def _simulate(wms: list[str], url: str, *extra: str) -> tuple[dict[str, Any], str]:
    run = subprocess.run(
        [*wms, "simulate", "--url", url, "--pickers", "2", "--speed", "40", "--seed", "7",
         "--json", *extra],
        env=clean_env(), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr + run.stdout
    return json.loads(run.stdout.strip().splitlines()[-1]), run.stderr


def _floor(database_url: str) -> dict[str, Any]:
    """The waves (code -> status, released by) and the orders' numbers, read in the database."""
    db = Database(database_url)
    try:
        with db.read() as session:
            users = dict(session.execute(select(User.id, User.username)).all())
            waves = {
                code: (status, users.get(by) if by else None)
                for code, status, by in session.execute(
                    select(Wave.code, Wave.status, Wave.released_by)
                )
            }
            numbers = set(session.scalars(select(Order.number)))
    finally:
        db.dispose()
    return {"waves": waves, "orders": numbers}


@pytest.fixture(scope="module")
def runs(demo_floor: tuple[list[str], str, str]) -> dict[str, Any]:
    """Two runs on the same floor: first with the shift lead off, then on."""
    wms, url, database_url = demo_floor
    before = _floor(database_url)
    off, _ = _simulate(wms, url, "--duration", "6", "--release-below", "0", "--order-rate", "0")
    between = _floor(database_url)
    on, log = _simulate(
        wms, url, "--duration", "16", "--release-below", "100", "--release-check-seconds", "40",
        "--order-rate", "4", "--order-prefix", "TFEED-",
    )  # fmt: skip
    return {
        "db": database_url,
        "before": before,
        "off": off,
        "between": between,
        "on": on,
        "log": log,
        "after": _floor(database_url),
    }


def test_switched_off_the_floor_runs_dry(runs):
    """--release-below 0 --order-rate 0: no wave released, no order added (the control)."""
    off = runs["off"]
    assert off["picks"] > 0, off  # the pickers did work the first wave
    assert off["waves_released"] == 0 and off["waves_planned"] == 0, off
    assert off["orders_fed"] == 0, off
    assert runs["between"]["orders"] == runs["before"]["orders"]
    assert runs["between"]["waves"] == runs["before"]["waves"]
    # The demo left waves planned for the later cut-offs: work that nobody released.
    planned = [c for c, (s, _) in runs["before"]["waves"].items() if s is WaveStatus.PLANNED]
    assert planned, runs["before"]


def test_waves_are_released_when_few_carts_wait(runs):
    on, log, before, after = runs["on"], runs["log"], runs["between"], runs["after"]
    assert not on["errors"], on
    planned = {c for c, (s, _) in before["waves"].items() if s is WaveStatus.PLANNED}
    # Every wave the demo left planned went to the floor, released by the supervisor...
    for code in planned:
        status, by = after["waves"][code]
        assert status is not WaveStatus.PLANNED and by == "super", (code, status, by)
    # ...and so did waves it planned itself for the orders that arrived meanwhile.
    by_super = {c for c, (s, by) in after["waves"].items() if by == "super"}
    by_super -= {c for c, (s, by) in before["waves"].items() if by == "super"}  # earlier tests
    assert len(by_super) == on["waves_released"] > len(planned), on
    assert on["waves_planned"] > 0 and (set(after["waves"]) - set(before["waves"])), on
    assert on["carts_released"] > 0 and on["orders_released"] > 0, on
    assert log.count("supervisor released wave ") == on["waves_released"], log
    assert on["release_below"] == 100
    for line in log.splitlines():
        if "supervisor released wave " in line:
            waiting = int(line.split("; ")[-1].split(" cart(s)")[0])
            assert waiting < 100, line


def test_fed_orders_arrive_in_the_database(runs):
    on, log, database_url = runs["on"], runs["log"], runs["db"]
    prefix = on["order_prefix"]
    assert prefix.startswith("TFEED-") and prefix.endswith("-"), on
    assert on["orders_fed"] > 5 and on["orders_refused"] == 0, on
    db = Database(database_url)
    try:
        with db.read() as session:
            fed = session.scalars(select(Order).where(Order.number.startswith(prefix))).all()
            statuses = {o.number: o.status for o in fed}
            kinds = {o.kind for o in fed}
            cut_offs = [o.cut_off for o in fed]
            in_waves = sum(1 for o in fed if o.wave_id is not None)
            lines, units = session.execute(
                select(func.count(), func.sum(OrderLine.quantity))
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.number.startswith(prefix))
            ).one()
    finally:
        db.dispose()
    # What the feed counted is what the database holds: orders, lines, units.
    assert len(fed) == on["orders_fed"]
    assert (lines, units) == (on["lines_fed"], on["units_fed"])
    assert kinds == {OrderKind.B2C} and all(c is not None for c in cut_offs)
    assert OrderStatus.RECEIVED not in statuses.values()  # allocated at once by the API
    # Fed orders went on down the line: planned into waves, released, picked.
    assert in_waves > 0
    onwards = {OrderStatus.RELEASED, OrderStatus.PICKING, OrderStatus.PICKED, OrderStatus.PACKED,
               OrderStatus.SHIPPED}  # fmt: skip
    assert any(s in onwards for s in statuses.values()), statuses
    assert log.count("order feed: ") >= 1
    logged = sum(
        int(line.split("order feed: ")[1].split(" new order(s)")[0])
        for line in log.splitlines()
        if " new order(s) " in line
    )
    assert logged == on["orders_fed"]


def test_orders_arrive_at_the_rate_asked():
    """The Poisson stream: about ``order_rate`` orders a simulated minute."""
    options = SimulationOptions(url="http://x", badges=("B",), order_rate=3.0, seed=1)
    lead = ShiftLead.__new__(ShiftLead)
    lead.options, lead.random, lead.tally = options, random.Random(1), FlowTally()
    total = sum(lead.arrivals(1.0) for _ in range(2000))
    assert 5400 < total < 6600
    assert sum(lead.arrivals(0.0) for _ in range(100)) == 0


def test_cut_off_is_the_next_collection_with_time_to_pick():
    morning = dt.datetime(2030, 5, 1, 9, 0, tzinfo=dt.UTC)
    assert next_collection(morning, 16) == dt.datetime(2030, 5, 1, 16, tzinfo=dt.UTC)
    late = dt.datetime(2030, 5, 1, 15, 30, tzinfo=dt.UTC)
    assert next_collection(late, 16) == dt.datetime(2030, 5, 2, 16, tzinfo=dt.UTC)
