"""`wms simulate` on the demo floor with its simulated devices: the put wall and the dock.

The server is `wms demo` itself (with its simulated light buses and scanners, without its own
background simulator); one `wms simulate` run drives it and the tests read the database.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web.served_demo import clean_env, served_demo
from wms.db import Database
from wms.db.schema import (
    BatchOrder,
    Movement,
    Order,
    Parcel,
    PickBatch,
    PickTask,
    ScanEvent,
    Shipment,
)
from wms.model import MovementKind, OrderStatus, ParcelStatus, ScanOutcome, ShipmentStatus

WALL_STATION = "put-wall-1"  # the demo's put wall (web/floor_devices.py demo_floor)


@pytest.fixture(scope="module")
def demo_floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], str, str]]:
    """`wms demo --no-simulate` serving a small warehouse: (wms command, url, database url)."""
    with served_demo(tmp_path_factory.mktemp("simulated-floor")) as served:
        yield served


@pytest.fixture(scope="module")
def simulated(demo_floor: tuple[list[str], str, str]) -> tuple[dict[str, Any], str, str]:
    """One simulator run on the demo floor: (summary, its stderr log, database url)."""
    wms, url, database_url = demo_floor
    run = subprocess.run(
        [*wms, "simulate", "--url", url, "--pickers", "2", "--speed", "40",
         "--duration", "25", "--truck-parcels", "3", "--truck-minutes", "5", "--seed", "5",
         "--json"],
        env=clean_env(), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr + run.stdout
    return json.loads(run.stdout.strip().splitlines()[-1]), run.stderr, database_url


def test_dock_loader_loads_parcels_and_trucks_leave(simulated):
    summary, log, database_url = simulated
    assert summary["dock"] == "DOCK-1", summary  # the first dock door of the demo
    assert summary["packed"] > 0 and summary["parcels_loaded"] > 0, summary
    assert summary["trucks"] > 0 and summary["orders_shipped"] > 0, summary
    assert summary["load_refused"] == 0 and not summary["errors"], summary
    assert log.count(" left DOCK-1 with ") == summary["trucks"], log

    db = Database(database_url)
    try:
        with db.read() as session:
            shipped = session.scalars(
                select(Shipment).where(Shipment.status == ShipmentStatus.SHIPPED)
            ).all()
            by_status: Counter[ParcelStatus] = Counter()
            for status, n in session.execute(
                select(Parcel.status, func.count()).group_by(Parcel.status)
            ):
                by_status[status] = int(n)
            orders_shipped = session.scalar(
                select(func.count()).select_from(Order).where(Order.status == OrderStatus.SHIPPED)
            )
            shipped_ids = session.scalars(
                select(Order.id).where(Order.status == OrderStatus.SHIPPED)
            ).all()
            parcels_per_truck = [
                int(n)
                for n in session.scalars(
                    select(func.count())
                    .select_from(Parcel)
                    .join(Shipment, Shipment.id == Parcel.shipment_id)
                    .where(Shipment.status == ShipmentStatus.SHIPPED)
                    .group_by(Shipment.id)
                )
            ]
            moved_out = set(
                session.scalars(
                    select(Movement.order_id).where(Movement.kind == MovementKind.SHIP)
                ).all()
            )
    finally:
        db.dispose()
    # Each truck the simulator let go is a shipped shipment, at its door; each of its parcels
    # and orders is shipped, and the stock left the building through the ledger.
    assert len(shipped) == summary["trucks"]
    assert {s.dock for s in shipped} == {"DOCK-1"}
    assert all(s.shipped_by is not None for s in shipped)
    assert orders_shipped == summary["orders_shipped"]
    assert by_status[ParcelStatus.SHIPPED] == summary["parcels_shipped"]
    assert (
        by_status[ParcelStatus.SHIPPED] + by_status[ParcelStatus.LOADED]
        == summary["parcels_loaded"]
    )
    assert set(shipped_ids) <= moved_out and shipped_ids
    # A truck leaves full (3 parcels here) or after its minutes (5 at x40 = 7.5 s).
    assert len(parcels_per_truck) == len(shipped) and max(parcels_per_truck) >= 3


def test_put_wall_operator_sorts_finished_carts(simulated):
    summary, log, database_url = simulated
    assert summary["put_wall"] == "demo-put-wall", summary
    assert summary["wall_carts"] > 0, summary
    assert summary["wall_puts"] > 0 and summary["wall_units"] >= summary["wall_puts"], summary
    assert summary["wall_cleared"] > 0, summary
    assert not summary["wall_refused"] and not summary["errors"], summary

    db = Database(database_url)
    try:
        with db.read() as session:
            events = session.execute(
                select(ScanEvent.kind, ScanEvent.outcome, ScanEvent.parsed)
                .where(ScanEvent.station == WALL_STATION)
                .order_by(ScanEvent.received_at, ScanEvent.id)
            ).all()
            started = [int(p["batch"]) for k, o, p in events if k == "put_start"]
            picked = {
                (int(batch), int(order), int(item)): int(units)
                for batch, order, item, units in session.execute(
                    select(
                        PickTask.batch_id,
                        PickTask.order_id,
                        PickTask.item_id,
                        func.sum(PickTask.picked_quantity),
                    )
                    .where(PickTask.batch_id.in_(started))
                    .group_by(PickTask.batch_id, PickTask.order_id, PickTask.item_id)
                )
                if units
            }
            batch_orders: dict[int, set[int]] = {batch: set() for batch in started}
            for batch, order in session.execute(
                select(BatchOrder.batch_id, BatchOrder.order_id).where(
                    BatchOrder.batch_id.in_(started)
                )
            ):
                batch_orders[int(batch)].add(int(order))
            kinds = {
                int(b.id): b.kind.value
                for b in session.scalars(select(PickBatch).where(PickBatch.id.in_(started)))
            }
    finally:
        db.dispose()
    assert all(o is ScanOutcome.ACCEPTED for _k, o, _p in events), events
    # What the simulator counted is what the wall recorded in the scan log.
    assert len(started) == summary["wall_carts"]
    puts = [p for k, _o, p in events if k == "put"]
    assert len(puts) == summary["wall_puts"]
    assert sum(int(p["quantity"]) for p in puts) == summary["wall_units"]
    assert sum(1 for k, _o, _p in events if k == "put_clear") == summary["wall_cleared"]
    # Only finished cluster carts of several orders come to the wall, and the units went to
    # their own orders' slots: every cart but the last (cut off by --duration) wholly sorted.
    assert set(kinds.values()) == {"cluster"}
    assert all(len(batch_orders[b]) >= 2 for b in started)
    put_units: Counter[tuple[int, int, int]] = Counter()
    for p in puts:
        assert int(p["order"]) in batch_orders[int(p["batch"])]
        put_units[(int(p["batch"]), int(p["order"]), int(p["item"]))] += int(p["quantity"])
    for key, units in put_units.items():
        assert units <= picked[key], key
    for batch in started[:-1]:
        wanted = {k: v for k, v in picked.items() if k[0] == batch}
        assert {k: v for k, v in put_units.items() if k[0] == batch} == wanted, batch
    assert log.count("put wall demo-put-wall: cart ") >= len(started) - 1
