"""The virtual put-wall operator (sorts finished cluster carts into a put wall) and its tally."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from web.simulate.options import USER_AGENT, GtinLookup, SimulationOptions
from web.simulate.supervisor import Supervisor

log = logging.getLogger(__name__)
_NEVER = threading.Event()  # a stop that never comes: wait out an answer already asked for


@dataclass
class WallTally:
    """What the virtual put-wall operator did."""

    carts: int = 0  # carts (batches) started at the wall
    puts: int = 0  # slot presses that put units
    units: int = 0
    cleared: int = 0  # full orders taken out of their slot
    skipped: int = 0  # carts that went straight to packing (the wall was busy)
    refused: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


class PutWallOperator:
    """The person at a put wall, on the wall's own screen and lights.

    Takes the carts the virtual pickers finish (at most ``queue`` wait at the wall); for each it
    scans a tote at the wall (``POST /lights/wall-scan``: slot *k* takes the order of tote *k*),
    then takes the units out one item at a time and scans it: the wall lights the slot of the
    first order waiting for it with the quantity; the operator sees the slot lit on the light
    panel (``GET /lights/panel``), puts the units and presses the slot (``POST /lights/press``),
    then waits for the wall's screen (the ``wall`` event of the ``/lights`` namespace) to say
    the put is done before the next scan. A full order's slot flashes; once the cart is sorted
    the operator (the packer's side of the wall) presses each flashing slot to take it out.
    What the cart holds is read from the batch (``GET /api/v1/batches/<code>``), as the
    operator sees it in the totes.
    """

    def __init__(
        self,
        supervisor: Supervisor,
        options: SimulationOptions,
        device: str,
        slots: list[str],
        gtin_of: GtinLookup,
        queue: int = 3,
    ) -> None:
        import socketio

        self.supervisor, self.options, self.device = supervisor, options, device
        self.slots, self.gtin_of, self.queue = slots, gtin_of, queue
        self.tally = WallTally()
        self.random = random.Random(options.seed * 53 + 11)
        self._carts: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self.sio = socketio.Client(http_session=supervisor.http, reconnection=True)
        self.sio.on("wall", self._on_wall, namespace="/lights")

    # -- the cart queue and the wall's screen

    def take(self, cart: dict[str, Any]) -> None:
        """A picker brings a finished cluster cart (called from the picker's thread)."""
        if len(cart.get("totes") or []) < 2:
            return  # one order's tote goes straight to packing
        with self._changed:
            if len(self._carts) >= self.queue:
                self.tally.skipped += 1
                return
            self._carts.append(cart)
            self._changed.notify_all()

    def _on_wall(self, data: Any) -> None:
        if isinstance(data, dict) and data.get("device") == self.device:
            with self._changed:
                self._events.append(data)
                self._changed.notify_all()

    def _wait_event(self, since: int, reasons: tuple[str, ...], stop: threading.Event) -> Any:
        """The first wall event after the ``since``-th with one of ``reasons`` (or None)."""
        deadline = time.monotonic() + self.options.timeout
        with self._changed:
            while not stop.is_set():
                for event in self._events[since:]:
                    if event.get("reason") in reasons:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(min(left, 0.2))
        return None

    def connect(self) -> None:
        """Watch the wall's screen (the ``/lights`` namespace, as the wall's page does)."""
        self.sio.connect(
            self.supervisor.base,
            namespaces=["/lights"],
            transports=["websocket"],
            headers={"User-Agent": USER_AGENT},
            wait_timeout=self.options.timeout,
        )

    def close(self) -> None:
        """Leave the wall."""
        with contextlib.suppress(Exception):
            self.sio.disconnect()

    # -- the work

    def _pause(self, seconds: float, stop: threading.Event) -> bool:
        return not stop.wait(max(0.0, seconds / self.options.speed) * self.random.uniform(0.7, 1.3))

    def _scan(self, code: str) -> dict[str, Any]:
        answer = self.supervisor.http.post(
            f"{self.supervisor.base}/lights/wall-scan",
            json={"device": self.device, "code": code, "client_id": f"sim-wall-{uuid.uuid4()}"},
            timeout=self.options.timeout,
        )
        body: dict[str, Any] = (
            answer.json()
            if answer.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        if not answer.ok or not body.get("ok"):
            self.tally.refused[str(body.get("reason") or f"HTTP {answer.status_code}")] += 1
        return body

    def _light(self, location: str) -> dict[str, Any]:
        panel = self.supervisor.http.get(
            f"{self.supervisor.base}/lights/panel", timeout=self.options.timeout
        )
        for bus in panel.json().get("buses", []) if panel.ok else []:
            if bus.get("device") == self.device:
                for light in bus.get("lights", []):
                    if light.get("location") == location:
                        return dict(light)
        return {}

    def _wait_lit(self, location: str, stop: threading.Event, flashing: bool = False) -> bool:
        deadline = time.monotonic() + self.options.timeout
        while not stop.is_set() and time.monotonic() < deadline:
            light = self._light(location)
            if light.get("lit") and (
                not flashing or str(light.get("mode", "")).startswith("flash")
            ):
                return True
            stop.wait(0.05)
        return False

    def _press(self, location: str) -> bool:
        answer = self.supervisor.http.post(
            f"{self.supervisor.base}/lights/press",
            json={"device": self.device, "location": location, "button": "confirm"},
            timeout=self.options.timeout,
        )
        return bool(answer.ok)

    def _contents(self, code: str) -> dict[tuple[str, str], int] | None:
        """Units picked into the cart, by (sku, unit); None when it is not a done cart."""
        answer = self.supervisor.http.get(
            f"{self.supervisor.base}/api/v1/batches/{code}", timeout=self.options.timeout
        )
        body = answer.json() if answer.ok else {}
        if body.get("status") != "done":
            return None
        units: Counter[tuple[str, str]] = Counter()
        for task in body.get("tasks", []):
            if int(task.get("picked_quantity") or 0) > 0:
                units[(str(task["sku"]), str(task.get("unit") or "each"))] += int(
                    task["picked_quantity"]
                )
        return dict(units)

    def sort_cart(self, cart: dict[str, Any], stop: threading.Event) -> bool:
        """Sort one cart into the wall; whether the wall took it."""
        contents = self._contents(str(cart["code"]))
        totes = [t.get("tote") for t in cart.get("totes", []) if t.get("tote")]
        if not contents or not totes:
            return False
        if not self._pause(self.options.scan_seconds, stop):
            return False
        started = self._scan(str(totes[0]))
        if started.get("reason") != "wall_started":
            return False
        self.tally.carts += 1
        full: set[str] = set()
        for (sku, unit), units in sorted(contents.items()):
            code = self.gtin_of(sku, unit) or sku
            left = units
            while left > 0 and not stop.is_set():
                if not self._pause(self.options.scan_seconds, stop):
                    return True
                answer = self._scan(code)
                if answer.get("reason") != "put_lit":
                    break  # not for this wall (or already put): back to the cart
                params = answer.get("params") or {}
                location = self.slots[int(params["slot"]) - 1]
                quantity = int(params["quantity"])
                if not self._wait_lit(location, stop):
                    if not stop.is_set():  # not an error when the run ends meanwhile
                        self.tally.errors["slot not lit"] += 1
                    break
                self._pause(self.options.put_seconds, stop)
                with self._changed:
                    since = len(self._events)
                if not self._press(location):
                    self.tally.errors["press refused"] += 1
                    break
                # Once pressed, the answer is awaited even when the run ends meanwhile (the
                # put is recorded anyway, and so must be counted).
                done = self._wait_event(since, ("put_done", "put_not_expected"), _NEVER)
                if done is None or done.get("reason") != "put_done":
                    self.tally.errors["put not confirmed"] += 1
                    break
                put = int((done.get("params") or {}).get("quantity") or quantity)
                self.tally.puts += 1
                self.tally.units += put
                left -= put
                if (done.get("params") or {}).get("full"):
                    full.add(location)
        log.info("put wall %s: cart %s sorted", self.device, cart["code"])
        for location in sorted(full):
            if stop.is_set() or not self._wait_lit(location, stop, flashing=True):
                continue
            self._pause(self.options.scan_seconds, stop)
            with self._changed:
                since = len(self._events)
            if self._press(location) and self._wait_event(since, ("slot_cleared",), _NEVER):
                self.tally.cleared += 1
        return True

    def run(self, stop: threading.Event) -> None:
        """Work carts as they come until ``stop`` is set."""
        try:
            self.connect()
        except Exception as error:  # noqa: BLE001 - counted; the floor goes on without a wall
            self.tally.errors[f"setup: {type(error).__name__}: {str(error)[:80]}"] += 1
            log.warning("put-wall operator could not start: %s", error)
            return
        while not stop.is_set():
            with self._changed:
                if not self._carts:
                    self._changed.wait(0.5)
                    continue
                cart = self._carts.pop(0)
            try:
                self.sort_cart(cart, stop)
            except Exception as error:  # noqa: BLE001 - the next cart goes on
                self.tally.errors[type(error).__name__] += 1
                log.warning("put wall round failed: %s", error)
        self.close()
