"""Release of many B2C orders into routed cart batches, end to end through the database.

Builds a seeded demo warehouse, allocates its orders (timed separately), then times one
release of all of them into sequenced cart batches with pick tasks written to the database,
and compares the total travel with first-come-first-served carts walked by S-shape.

    .venv/bin/python benchmarks/release.py [--orders 10000] [--locations 4000] [--database URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select

from picking import batching
from picking.routing import Method
from wms.allocation import allocate_orders
from wms.db import Database
from wms.db.migrate import upgrade
from wms.db.schema import Location, Order, OrderLine, PickBatch, PickTask, Reservation, Stock
from wms.demo import generate_demo
from wms.model import BatchKind, OrderKind, OrderStatus
from wms.release import FAR_FUTURE, ReleaseOptions, release_orders, zone_layout


def _fcfs_distance(db: Database, options: ReleaseOptions) -> tuple[float, int]:
    """Travel of first-come-first-served carts (order number order) walked S-shape."""
    total, carts = 0.0, 0
    with db.read() as session:
        rows = session.execute(
            select(Order.id, Order.number, Location.zone_id, Location.id, Reservation.quantity)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .join(Reservation, Reservation.order_line_id == OrderLine.id)
            .join(Stock, Reservation.stock_id == Stock.id)
            .join(Location, Stock.location_id == Location.id)
            .where(Order.kind == OrderKind.B2C)
        ).all()
        by_zone: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        numbers = {}
        for order_id, number, zone_id, location_id, quantity in rows:
            by_zone[zone_id][order_id].append((location_id, quantity))
            numbers[order_id] = number
        for zone_id, orders in by_zone.items():
            geometry = zone_layout(session, zone_id)
            plan = batching.fcfs_batches(
                geometry.layout,
                [
                    batching.Order(
                        str(order_id),
                        0,
                        FAR_FUTURE,
                        tuple(batching.OrderLine(geometry.points[loc], qty) for loc, qty in lines),
                    )
                    for order_id, lines in sorted(orders.items(), key=lambda kv: numbers[kv[0]])
                ],
                batching.Cart(options.totes_per_cart, options.tote_max_units),
                method=Method.S_SHAPE,
            )
            total += plan.distance
            carts += len(plan.batches)
    return total, carts


def run(url: str, orders: int, locations: int, seed: int) -> None:
    """Build, allocate, release, and print the figures."""
    upgrade(url)
    db = Database(url)
    started = time.perf_counter()
    generate_demo(
        db,
        seed=seed,
        pick_locations=locations,
        items=max(500, locations // 4),
        b2c_orders=orders,
        b2b_orders=0,
    )
    print(
        f"demo data: {orders:,} B2C orders, {locations:,} pick locations "
        f"({time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    with db.write() as session:
        allocate_orders(session, list(session.scalars(select(Order).order_by(Order.id))))
    allocate_s = time.perf_counter() - started
    with db.read() as session:
        lines = session.scalar(select(func.count()).select_from(Reservation)) or 0
        allocated = session.scalar(
            select(func.count()).select_from(Order).where(Order.status == OrderStatus.ALLOCATED)
        )
    print(
        f"allocation: {allocate_s:.2f} s ({orders / allocate_s:,.0f} orders/s), "
        f"{allocated:,} fully allocated, {lines:,} reservations"
    )
    options = ReleaseOptions()
    started = time.perf_counter()
    with db.write() as session:
        todo = session.scalars(
            select(Order).where(
                Order.status.in_((OrderStatus.ALLOCATED, OrderStatus.PARTLY_ALLOCATED))
            )
        ).all()
        result = release_orders(session, todo, options=options)
    release_s = time.perf_counter() - started
    with db.read() as session:
        tasks = session.scalar(select(func.count()).select_from(PickTask)) or 0
        batches = (
            session.scalar(
                select(func.count())
                .select_from(PickBatch)
                .where(PickBatch.kind == BatchKind.CLUSTER)
            )
            or 0
        )
        cluster_m = (
            session.scalar(
                select(func.sum(PickBatch.route_length_m)).where(
                    PickBatch.kind == BatchKind.CLUSTER
                )
            )
            or 0.0
        )
    fcfs_m, fcfs_carts = _fcfs_distance(db, options)
    print(
        f"release: {release_s:.2f} s for {result.orders:,} orders -> {batches:,} cart batches, "
        f"{tasks:,} pick tasks, {result.replenishments:,} replenishments written"
    )
    print(
        f"travel: {cluster_m / 1000:,.1f} km in cluster carts vs {fcfs_m / 1000:,.1f} km for "
        f"{fcfs_carts:,} first-come-first-served carts walked S-shape: "
        f"{100 * (1 - cluster_m / fcfs_m):.1f}% shorter"
    )
    print(
        f"aims: release under 5 s -> {'met' if release_s < 5 else 'MISSED'}; "
        f"travel at least 25% shorter -> {'met' if cluster_m <= 0.75 * fcfs_m else 'MISSED'}"
    )
    db.dispose()


def main() -> None:
    """Parse the options and run on a scratch SQLite file (or the database given)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", help="a SQLite URL of a file that does not exist yet")
    args = parser.parse_args()
    if args.database:
        run(args.database, args.orders, args.locations, args.seed)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{Path(folder) / 'release.sqlite3'}", args.orders, args.locations, args.seed)


if __name__ == "__main__":
    main()
