"""The Simulation that runs the virtual pickers and the other actors, and wait_for_server."""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from web.simulate.dock import DockLoader, DockTally
from web.simulate.options import GtinLookup, SimulationOptions
from web.simulate.pickers import VirtualPicker
from web.simulate.put_wall import PutWallOperator, WallTally
from web.simulate.shift_lead import FlowTally, ShiftLead
from web.simulate.supervisor import Supervisor

log = logging.getLogger(__name__)


class Simulation:
    """Many virtual pickers, one thread each (and a replenisher when a supervisor is given)."""

    def __init__(
        self,
        options: SimulationOptions,
        gtin_of: GtinLookup,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.options = options
        self.supervisor = supervisor
        self.replenished = 0
        self.presses = 0
        self.packed = 0
        self.stop = threading.Event()
        self.dock_loader: DockLoader | None = None
        self.put_wall: PutWallOperator | None = None
        self.shift_lead: ShiftLead | None = None
        if supervisor is not None:
            release_below = options.release_below
            if release_below is None:
                release_below = 2 * len(options.badges)
            if release_below > 0 or options.order_rate > 0:
                self.shift_lead = ShiftLead(supervisor, options, release_below)
            self.dock_loader = self._dock_loader(supervisor)
            self.put_wall = self._put_wall_operator(supervisor, gtin_of)
        cart_done = self.put_wall.take if self.put_wall is not None else None
        self.pickers = [
            VirtualPicker(i, badge, options, gtin_of, cart_done)
            for i, badge in enumerate(options.badges, 1)
        ]
        self._threads: list[threading.Thread] = []

    def _dock_loader(self, supervisor: Supervisor) -> DockLoader | None:
        dock = self.options.dock
        if dock is None:
            try:
                dock = next(iter(supervisor.dock_doors()), "")
            except Exception as error:  # noqa: BLE001 - the floor goes on without a loader
                log.warning("no dock loader: %s", error)
                dock = ""
        return DockLoader(supervisor, self.options, dock) if dock else None

    def _put_wall_operator(
        self, supervisor: Supervisor, gtin_of: GtinLookup
    ) -> PutWallOperator | None:
        if self.options.put_wall == "":
            return None
        try:
            answer = supervisor.http.get(f"{supervisor.base}/lights/panel", timeout=10)
            buses = answer.json().get("buses", []) if answer.ok else []
        except Exception as error:  # noqa: BLE001 - the floor goes on without a wall
            log.warning("no put-wall operator: %s", error)
            return None
        walls = [
            bus
            for bus in buses
            if bus.get("simulated") and not bus.get("zone") and bus.get("station")
        ]
        wall = next((b for b in walls if self.options.put_wall in (None, b["device"])), None)
        if wall is None:
            log.warning("no simulated put wall %s on the light panel", self.options.put_wall or "")
            return None
        slots = [str(light["location"]) for light in wall.get("lights", [])]
        return PutWallOperator(supervisor, self.options, str(wall["device"]), slots, gtin_of)

    def start(self, wait_ready: bool = True) -> None:
        """Start every picker; with ``wait_ready``, return once all are signed in."""
        ready = threading.Barrier(len(self.pickers) + 1) if wait_ready else None
        for picker in self.pickers:
            thread = threading.Thread(
                target=picker.run, args=(self.stop, ready), name=f"sim-{picker.badge}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if ready is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.wait(timeout=self.options.timeout * 6)
        if self.supervisor is not None:
            jobs: list[tuple[Callable[[], None], str]] = [
                (self._replenish, "sim-replenisher"),
                (self._press, "sim-lights"),
                (self._pack, "sim-packer"),
            ]
            if self.dock_loader is not None:
                jobs.append((self._load, "sim-dock"))
            if self.put_wall is not None:
                jobs.append((functools.partial(self.put_wall.run, self.stop), "sim-put-wall"))
            if self.shift_lead is not None:
                if self.shift_lead.release_below > 0:
                    jobs.append((self._release, "sim-wave-release"))
                if self.options.order_rate > 0:
                    jobs.append((self._feed, "sim-order-feed"))
            for target, name in jobs:
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)

    def _press(self) -> None:
        """A picker in each pick-to-light zone: a lit light is picked and pressed every ~4 s."""
        assert self.supervisor is not None
        rng = random.Random(len(self.pickers))
        while not self.stop.wait(max(0.2, 4.0 / self.options.speed)):
            try:
                self.presses += self.supervisor.press_lit_lights(rng)
            except Exception as error:  # noqa: BLE001 - try again next round
                log.warning("light press round failed: %s", error)

    def _replenish(self) -> None:
        assert self.supervisor is not None
        while not self.stop.wait(max(0.5, 30.0 / self.options.speed)):
            try:
                self.replenished += self.supervisor.complete_replenishments()
            except Exception as error:  # noqa: BLE001 - try again next round
                log.warning("replenishment round failed: %s", error)

    def _pack(self) -> None:
        """A packer at the first pack station: a picked order packed every ~30 s."""
        assert self.supervisor is not None
        station = self.options.pack_station
        if not station:
            return
        while not self.stop.wait(max(0.2, 30.0 / self.options.speed)):
            try:
                while self.supervisor.pack_one(station) and not self.stop.is_set():
                    self.packed += 1
                    if self.stop.wait(max(0.2, 30.0 / self.options.speed)):
                        return
            except Exception as error:  # noqa: BLE001 - try again next round
                log.warning("packing round failed: %s", error)

    def _load(self) -> None:
        """A loader at the dock: a round every ~2 minutes (``speed`` divides it)."""
        assert self.dock_loader is not None
        while not self.stop.wait(max(0.2, 120.0 / self.options.speed)):
            try:
                self.dock_loader.round(self.stop)
            except Exception as error:  # noqa: BLE001 - try again next round
                log.warning("dock round failed: %s", error)

    def _release(self) -> None:
        """The shift lead looks at the floor now, then every ``release_check_seconds``."""
        assert self.shift_lead is not None
        pause = max(0.2, self.options.release_check_seconds / self.options.speed)
        while not self.stop.is_set():
            try:
                self.shift_lead.release_round()
            except Exception as error:  # noqa: BLE001 - try again next round
                self.shift_lead.tally.errors[f"release: {type(error).__name__}"] += 1
                log.warning("release round failed: %s", error)
            if self.stop.wait(pause):
                return

    def _feed(self) -> None:
        """The webshop: every ``order_batch_seconds`` the orders that arrived meanwhile."""
        assert self.shift_lead is not None
        pause = max(0.2, self.options.order_batch_seconds / self.options.speed)
        last = time.monotonic()
        while not self.stop.wait(pause):
            now = time.monotonic()
            minutes, last = (now - last) * self.options.speed / 60.0, now
            try:
                self.shift_lead.feed(self.shift_lead.arrivals(minutes), self.stop)
            except Exception as error:  # noqa: BLE001 - try again next round
                self.shift_lead.tally.errors[f"feed: {type(error).__name__}"] += 1
                log.warning("order feed round failed: %s", error)

    def run_for(self, seconds: float | None) -> None:
        """Let them work ``seconds`` (or until Ctrl+C / :meth:`halt`)."""
        try:
            if seconds is None:
                while not self.stop.wait(1.0):
                    pass
            else:
                self.stop.wait(seconds)
        finally:
            self.halt()

    def halt(self) -> None:
        """Stop every picker and wait for them to hang up."""
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=self.options.timeout + 5)

    def summary(self) -> dict[str, Any]:
        """Totals over all pickers."""
        totals: dict[str, Any] = {"pickers": len(self.pickers)}
        for name in ("picks", "scans", "wrong_scans", "shorts", "batches"):
            totals[name] = sum(getattr(p.tally, name) for p in self.pickers)
        errors: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for picker in self.pickers:
            errors.update(picker.tally.errors)
            refused.update(picker.tally.refused)
        totals["replenished"] = self.replenished
        totals["light_presses"] = self.presses
        totals["packed"] = self.packed
        dock = self.dock_loader.tally if self.dock_loader is not None else DockTally()
        totals["dock"] = self.dock_loader.dock if self.dock_loader is not None else None
        totals["parcels_loaded"] = dock.parcels_loaded
        totals["load_refused"] = dock.refused
        totals["trucks"] = dock.trucks
        totals["orders_shipped"] = dock.orders_shipped
        totals["parcels_shipped"] = dock.parcels_shipped
        wall = self.put_wall.tally if self.put_wall is not None else WallTally()
        totals["put_wall"] = self.put_wall.device if self.put_wall is not None else None
        totals["wall_carts"] = wall.carts
        totals["wall_puts"] = wall.puts
        totals["wall_units"] = wall.units
        totals["wall_cleared"] = wall.cleared
        totals["wall_skipped"] = wall.skipped
        totals["wall_refused"] = dict(wall.refused)
        errors.update({f"put wall: {k}": v for k, v in wall.errors.items()})
        flow = self.shift_lead.tally if self.shift_lead is not None else FlowTally()
        totals["release_below"] = self.shift_lead.release_below if self.shift_lead else 0
        totals["waves_planned"] = flow.waves_planned
        totals["waves_released"] = flow.waves_released
        totals["orders_released"] = flow.orders_released
        totals["carts_released"] = flow.carts_released
        totals["orders_fed"] = flow.orders_fed
        totals["lines_fed"] = flow.lines_fed
        totals["units_fed"] = flow.units_fed
        totals["fed_backordered"] = flow.fed_backordered
        totals["orders_refused"] = flow.orders_refused
        totals["feed_no_stock"] = flow.no_stock
        totals["order_prefix"] = (
            f"{self.options.order_prefix}{self.shift_lead.run_id}-" if self.shift_lead else None
        )
        errors.update({f"flow: {k}": v for k, v in flow.errors.items()})
        totals["errors"] = dict(errors)
        totals["refused"] = dict(refused)
        return totals


def wait_for_server(url: str, timeout: float = 60.0) -> bool:
    """Whether ``url`` answers HTTP within ``timeout`` seconds."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            requests.get(url.rstrip("/") + "/login", timeout=2)
            return True
        time.sleep(0.5)
    return False
