"""Pick-to-light zone benchmark: the app's whole loop, press to ledger and tote to lights.

A seeded demo warehouse (SQLite in a temporary directory) gets a pick-to-light zone P of 24
locations; its orders are allocated and released (one tote per order in a light zone). The
app's floor-devices thread (web/floor_devices.py) then drives a paced simulator bus over
socket://127.0.0.1 (38,400 baud by default, 5 ms turnaround), and this script plays the
picker: it presses every lit pick as soon as it sees it, then the zone's "order complete" light.

Measured:

- press -> confirmed: from the press on the unit to the floor thread's report that the pick is
  confirmed in the database (bus poll + press event + ``confirm_pick`` + scan log + commit);
- pass-on -> lit: from the press on "order complete" to the next tote's first pick lit on the
  unit (start the next tote + read its picks + coalesced FC16 writes): the light-on time of
  a tote entering the zone;
- picks per minute for the zone with an instant picker (the system's ceiling, not a person's).

Run from the repository root:  .venv/bin/python benchmarks/ptl_zone.py [--totes 40] [--baud 19200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from devices.manager import Simulators  # noqa: E402
from web.floor_devices import FloorDevices, device_configs  # noqa: E402
from wms.allocation import allocate_orders  # noqa: E402
from wms.config import parse_settings  # noqa: E402
from wms.db import Database  # noqa: E402
from wms.db.schema import Order, PickBatch, PickTask, Zone  # noqa: E402
from wms.demo import generate_demo, make_light_zone  # noqa: E402
from wms.model import OrderStatus, TaskStatus  # noqa: E402
from wms.release import release_orders  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _site(db: Database, orders: int) -> list[str]:
    generate_demo(db, pick_locations=200, items=80, b2c_orders=orders, b2b_orders=0, seed=7)
    zone = make_light_zone(db)
    with db.write() as session:
        received = list(session.scalars(select(Order).where(Order.status == OrderStatus.RECEIVED)))
        allocate_orders(session, received)
        release_orders(session, received)
    return zone


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(totes: int, baud: int, orders: int) -> None:
    """Build the site, run the zone until ``totes`` totes are done, print the figures."""
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/bench.sqlite3")
        db.create_all()
        zone = _site(db, orders)
        with db.read() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(PickBatch)
                .join(Zone, PickBatch.zone_id == Zone.id)
                .where(Zone.code == "P")
            )
        lights: dict[str, str | int] = {code: n for n, code in enumerate(zone, start=1)}
        lights["P-DONE"] = len(zone) + 1
        settings = parse_settings(
            {
                "database": {"url": db.url},
                "zones": [{"code": "P", "name": "Lights", "kind": "pick_to_light"}],
                "devices": [
                    {
                        "name": "bench-ptl",
                        "kind": "ptl_bus",
                        "driver": "generic-ptl-v1",
                        "url": f"socket://127.0.0.1:{_free_port()}",
                        "baudrate": baud,
                        "zone": "P",
                        "lights": lights,
                        "order_complete": "P-DONE",
                    }
                ],
            }
        )
        sims = Simulators(device_configs(settings), pace=True, turnaround=0.005)
        floor = FloorDevices(settings, db, simulators=sims)
        confirmed: dict[str, float] = {}
        done = threading.Condition()

        def on_news(topic: str, data: Any) -> None:
            if topic == "press" and data.get("ok"):
                with done:
                    confirmed[data["location"]] = time.monotonic()
                    done.notify_all()

        floor.add_listener(on_news)
        sim = sims.ptl["bench-ptl"]
        unit = {location: int(address) for location, address in lights.items()}
        press_to_confirmed: list[float] = []
        pass_on_to_lit: list[float] = []
        picks = 0
        totes_done = 0
        floor.start()
        started = time.monotonic()
        passed_at: float | None = None
        try:
            while totes_done < totes and time.monotonic() - started < 600:
                lit = [loc for loc in zone if sim.light(unit[loc]).lit]
                if lit and passed_at is not None:
                    pass_on_to_lit.append(time.monotonic() - passed_at)
                    passed_at = None
                for location in lit:
                    with done:
                        confirmed.pop(location, None)
                    pressed = time.monotonic()
                    if not sims.press("bench-ptl", location):
                        continue
                    with done:
                        done.wait_for(lambda loc=location: loc in confirmed, timeout=10)
                        if location in confirmed:
                            press_to_confirmed.append(confirmed[location] - pressed)
                            picks += 1
                if sim.light(unit["P-DONE"]).lit:
                    sims.press("bench-ptl", "P-DONE")
                    passed_at = time.monotonic()
                    totes_done += 1
                    continue
                if not lit:
                    time.sleep(0.002)
            elapsed = time.monotonic() - started
        finally:
            floor.stop()
        with db.read() as session:
            picked = session.scalar(
                select(func.count())
                .select_from(PickTask)
                .join(Zone, PickTask.zone_id == Zone.id)
                .where(Zone.code == "P", PickTask.status == TaskStatus.DONE)
            )
        db.dispose()
    ms = 1000.0
    print(f"pick-to-light zone P: {len(zone)} locations, {waiting} totes released, {baud} baud")
    print(f"totes done: {totes_done}, picks confirmed by presses: {picks} (in the DB: {picked})")
    print(f"zone throughput with an instant picker: {picks / elapsed * 60:.0f} picks/min")
    print(
        f"press -> confirmed in the DB: p50 {statistics.median(press_to_confirmed) * ms:.0f} ms,"
        f" p99 {_percentile(press_to_confirmed, 99) * ms:.0f} ms"
        f" (n={len(press_to_confirmed)})"
    )
    if pass_on_to_lit:
        print(
            f"pass-on press -> next tote lit: p50 {statistics.median(pass_on_to_lit) * ms:.0f} ms,"
            f" p99 {_percentile(pass_on_to_lit, 99) * ms:.0f} ms (n={len(pass_on_to_lit)})"
        )


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--totes", type=int, default=40, help="totes to work through")
    parser.add_argument("--baud", type=int, default=38400, help="bus speed")
    parser.add_argument("--orders", type=int, default=400, help="B2C orders in the demo site")
    args = parser.parse_args()
    run(args.totes, args.baud, args.orders)


if __name__ == "__main__":
    main()
