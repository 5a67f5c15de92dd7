"""Labels: how many render per second (ZPL, PDF), and "close" to bytes at the printer, p99.
(Not named labels.py: run as a script, this folder comes first on sys.path, and a labels.py
here would hide the labels package from every other benchmark.)

Run from the repository root:

    .venv/bin/python benchmarks/label_printing.py                  # SQLite in a scratch directory
    .venv/bin/python benchmarks/label_printing.py --renders 500 --closes 200
    .venv/bin/python benchmarks/label_printing.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test

Rendering: ``labels.zpl.label_zpl`` and ``labels.pdf.labels_pdf`` of a B2C 4x6 shipping label
and a GS1 logistic label, one label per call (as the pack station renders them).

Close to socket: a scratch database holds N picked orders with their unit already scanned
into the parcel. Each timed close is what ``POST /api/v1/pack/orders/<n>/close`` does: one write
transaction running ``wms.packing.close_parcel`` (ledger movement, order packed, label rendered,
print job stored), then the spooler is woken; the clock stops when the simulated Zebra has the
job's bytes (its own receive time). The spooler's sender thread is the real one
(``web.spooler.PrinterSender``, ``~HS`` before and after every job on one TCP connection).
Closes are paced (``--gap``) like a packer, not fired back to back.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from devices.printer.simulator import SimulatedZebraPrinter  # noqa: E402
from labels.documents import Address, LogisticLabel, ShippingLabel  # noqa: E402
from labels.gs1 import with_check_digit  # noqa: E402
from labels.pdf import labels_pdf  # noqa: E402
from labels.sscc import SsccScheme  # noqa: E402
from labels.zpl import label_zpl  # noqa: E402
from web.spooler import PrinterSender  # noqa: E402
from wms.catalog import (  # noqa: E402
    NewGtin,
    NewItem,
    NewLocation,
    create_item,
    create_location,
    ensure_zone,
)
from wms.config import PrinterSettings  # noqa: E402
from wms.db import Database  # noqa: E402
from wms.db.ledger import post_movement, receive  # noqa: E402
from wms.db.schema import Order, OrderLine  # noqa: E402
from wms.ledger import MovementRequest  # noqa: E402
from wms.model import (  # noqa: E402
    LocationType,
    MovementKind,
    OrderKind,
    OrderStatus,
    ZoneKind,
)
from wms.orders import NewOrder, NewOrderLine, create_order  # noqa: E402
from wms.packing import CartonSpec, PackContext, close_parcel, scan_unit  # noqa: E402

SHIP_FROM = Address("Demo warehouse", ("1 Dock Road",), "2000", "Antwerpen", "BE")
SHIP_TO = Address("Jesse Visser", ("Kerkstraat 12", "bus 3"), "1012 AB", "Amsterdam", "NL")


def _shipping(n: int) -> ShippingLabel:
    return ShippingLabel(
        order_number=f"WS-{100000 + n}",
        ship_to=SHIP_TO,
        carrier="DPD",
        service="Classic",
        tracking_number=f"WS-{100000 + n}-1",
        ship_from=SHIP_FROM,
        weight_kg=Decimal("1.25"),
    )


def _logistic(n: int) -> LogisticLabel:
    return LogisticLabel(
        sscc=SsccScheme("5412345").sscc(n + 1),
        content_gtin="05412345000013",
        count=12,
        lot=f"L{n:05d}",
        order_number=f"B2B-{n}",
        ship_from=SHIP_FROM,
        ship_to=SHIP_TO,
        company_prefix_length=7,
    )


def bench_render(count: int) -> list[tuple[str, float]]:
    """Labels per second for each document and output."""
    rows = []
    for name, make in (("shipping 4x6", _shipping), ("GS1 logistic", _logistic)):
        for output, render in (("ZPL", label_zpl), ("PDF", lambda d: labels_pdf([d]))):
            render(make(0))  # warm caches (fonts, templates)
            started = time.perf_counter()
            for n in range(count):
                render(make(n))
            rows.append((f"{name} {output}", count / (time.perf_counter() - started)))
    return rows


def _scratch(url: str, root: Path) -> tuple[str, str | None]:
    """A fresh database URL; for PostgreSQL also the scratch database's name to drop."""
    if url == "sqlite":
        return f"sqlite:///{root / 'labels.sqlite3'}", None
    name = f"wms_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def _drop(url: str, name: str | None) -> None:
    if name is None:
        return
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _picked_orders(db: Database, count: int) -> tuple[list[int], str]:
    """``count`` B2C orders of one unit each, picked to PACK-1 and scanned into a parcel."""
    gtin = with_check_digit("541234500001")
    with db.write() as s:
        ensure_zone(s, "A", "Fast movers", ZoneKind.HANDHELD)
        ensure_zone(s, "S", "Pack and ship", ZoneKind.SHIPPING)
        face = create_location(s, NewLocation("A1-01", "A", LocationType.PICK_FACE)).id
        pack = create_location(s, NewLocation("PACK-1", "S", LocationType.PACK_STATION)).id
        create_location(s, NewLocation("STAGE-01", "S", LocationType.STAGING))
        item = create_item(
            s,
            NewItem(
                "MUG", "Mug", gtins=(NewGtin(gtin),), length_mm=120, width_mm=90, height_mm=100
            ),
        ).id
        receive(s, item_id=item, location_id=face, quantity=count)
    ids = []
    for n in range(count):
        with db.write() as s:
            order = create_order(
                s,
                NewOrder(
                    f"WS-{n:06d}",
                    OrderKind.B2C,
                    [NewOrderLine("MUG", 1)],
                    ship_to_name=SHIP_TO.name,
                    ship_to_address="\n".join(SHIP_TO.lines),
                    ship_to_postcode=SHIP_TO.postal_code,
                    ship_to_city=SHIP_TO.city,
                    ship_to_country=SHIP_TO.country,
                    carrier="DPD",
                    service="Classic",
                ),
            )
            line = order.lines[0]
            # The state a confirmed pick leaves (wms.picks.confirm_pick), without a wave.
            post_movement(
                s,
                MovementRequest(
                    MovementKind.PICK, item, 1, from_location_id=face, to_location_id=pack
                ),
                order_id=order.id,
                order_line_id=line.id,
            )
            s.execute(update(OrderLine).where(OrderLine.id == line.id).values(picked_quantity=1))
            s.execute(update(Order).where(Order.id == order.id).values(status=OrderStatus.PICKED))
            ids.append(order.id)
        with db.write() as s:
            scan_unit(s, order.id, gtin, station="pack-1")
    return ids, gtin


def bench_close(url: str, count: int, gap: float) -> dict[str, float]:
    """Close ``count`` parcels; latency from the start of the close to the bytes at the socket."""
    with tempfile.TemporaryDirectory() as tmp, SimulatedZebraPrinter() as printer:
        scratch, name = _scratch(url, Path(tmp))
        db = Database(scratch)
        try:
            db.create_all()
            order_ids, _gtin = _picked_orders(db, count)
            context = PackContext(
                [CartonSpec("S", 250, 180, 100, 5000, 150)],
                SsccScheme("5412345"),
                SHIP_FROM,
                printer="pack-1-zebra",
            )
            sender = PrinterSender(db, PrinterSettings(name="pack-1-zebra", url=printer.url))
            sender.start()
            latencies, close_ms = [], []
            try:
                for index, order_id in enumerate(order_ids):
                    started = time.time()
                    tick = time.perf_counter()
                    with db.write() as s:
                        close_parcel(s, order_id, context, carton="S", weight_g=450)
                    close_ms.append((time.perf_counter() - tick) * 1000)
                    sender.wake()
                    jobs = printer.wait_for_jobs(index + 1, timeout=30)
                    if len(jobs) <= index:
                        raise RuntimeError(f"job {index + 1} never reached the printer")
                    latencies.append((jobs[index].received_at - started) * 1000)
                    time.sleep(gap)
            finally:
                sender.stop()
        finally:
            db.dispose()
            _drop(url, name)
    latencies.sort()
    return {
        "closes": count,
        "close_txn_p50_ms": statistics.median(close_ms),
        "to_socket_p50_ms": statistics.median(latencies),
        "to_socket_p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "to_socket_max_ms": latencies[-1],
    }


def main() -> None:
    """Parse the options, run both benchmarks, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=300, help="labels per render row")
    parser.add_argument("--closes", type=int, default=200, help="parcels closed")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between two closes")
    parser.add_argument(
        "--database", action="append", help="sqlite (default) or a PostgreSQL URL; repeatable"
    )
    args = parser.parse_args()
    print(f"{'rendering':<24} {'labels/s':>10}")
    for label, rate in bench_render(args.renders):
        print(f"{label:<24} {rate:>10.0f}")
    print()
    print(
        f"{'database':<12} {'closes':>6} {'close txn p50 ms':>17} {'to socket p50 ms':>17} "
        f"{'p99 ms':>8} {'max ms':>8}"
    )
    for url in args.database or ["sqlite"]:
        figures = bench_close(url, args.closes, args.gap)
        backend = "sqlite" if url == "sqlite" else "postgresql"
        print(
            f"{backend:<12} {figures['closes']:>6} {figures['close_txn_p50_ms']:>17.1f} "
            f"{figures['to_socket_p50_ms']:>17.1f} {figures['to_socket_p99_ms']:>8.1f} "
            f"{figures['to_socket_max_ms']:>8.1f}"
        )


if __name__ == "__main__":
    main()
