"""The virtual dock loader (loads packed parcels onto trucks, lets full trucks go) and its tally."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass

from web.simulate.options import SimulationOptions
from web.simulate.supervisor import Supervisor

log = logging.getLogger(__name__)


@dataclass
class DockTally:
    """What the virtual dock loader did."""

    parcels_loaded: int = 0
    refused: int = 0
    trucks: int = 0  # shipments shipped
    orders_shipped: int = 0
    parcels_shipped: int = 0


class DockLoader:
    """A loader at the dock doors: scans packed parcels onto the trucks, lets a full truck go.

    Each round it loads every closed parcel of a packed order (an order with a dock door goes
    to that door, the others to ``dock``), one parcel per ``load_seconds``; a truck (an open
    shipment) leaves once it holds ``truck_parcels`` parcels or ``truck_minutes`` after the
    loader first saw it, both at the simulation's speed.
    """

    def __init__(self, supervisor: Supervisor, options: SimulationOptions, dock: str) -> None:
        self.supervisor, self.options, self.dock = supervisor, options, dock
        self.tally = DockTally()
        self._first_seen: dict[int, float] = {}
        self.random = random.Random(options.seed * 31 + 7)

    def _pause(self, seconds: float, stop: threading.Event) -> bool:
        return not stop.wait(max(0.0, seconds / self.options.speed) * self.random.uniform(0.7, 1.3))

    def round(self, stop: threading.Event) -> None:
        """Load what is packed, then let every truck go that is full or has waited long enough."""
        for _order, door, label in self.supervisor.parcels_to_load():
            if not self._pause(self.options.load_seconds, stop):
                return
            if self.supervisor.load_parcel(door or self.dock, label) is None:
                self.tally.refused += 1
            else:
                self.tally.parcels_loaded += 1
        now = time.monotonic()
        for shipment in self.supervisor.open_shipments():
            parcels = shipment.get("parcels", [])
            first = self._first_seen.setdefault(int(shipment["id"]), now)
            waited = (now - first) * self.options.speed
            if (
                len(parcels) < self.options.truck_parcels
                and waited < self.options.truck_minutes * 60
            ):
                continue
            shipped = self.supervisor.ship(int(shipment["id"]))
            if shipped is None:
                continue  # an order's other parcel is not on it yet: loaded next round
            self._first_seen.pop(int(shipment["id"]), None)
            orders = {p["order"] for p in shipped.get("parcels", [])}
            self.tally.trucks += 1
            self.tally.orders_shipped += len(orders)
            self.tally.parcels_shipped += len(shipped.get("parcels", []))
            log.info(
                "truck %s (%s) left %s with %d parcel(s) of %d order(s)",
                shipped["id"],
                shipped.get("carrier"),
                shipped.get("dock"),
                len(shipped.get("parcels", [])),
                len(orders),
            )
