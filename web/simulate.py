"""The floor simulator: virtual pickers as real Socket.IO handhelds against a running server.

Each virtual picker signs in at ``/badge`` like a handheld (the same HTTP session and
User-Agent carry the cookie to the websocket, as Flask-Login's "strong" session protection
wants), connects to ``/handheld`` over the websocket transport and follows the protocol of
docs/handheld-protocol.md: ``take_batch``, bind totes, walk to the location, scan it, scan
the item's unit GTIN once per unit, scan the tote; ``confirm`` for tote-less order picks;
``short`` now and then. The walk and each scan take realistic times divided by ``speed``;
a wrong location is scanned at ``wrong_scan_rate`` (then the right one).

The same client is the load generator of benchmarks/dashboard_load.py (``speed`` high,
many pickers); benchmarks/handheld_load.py drives the same protocol with its own harness.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "/handheld"
USER_AGENT = "wms-floor-simulator/1.0"
log = logging.getLogger(__name__)

GtinLookup = Callable[[str, str], str | None]  # (sku, unit: each/case/pallet) -> barcode
_NEVER = threading.Event()  # a stop that never comes: wait out an answer already asked for


@dataclass(frozen=True)
class SimulationOptions:
    """How the virtual pickers behave."""

    url: str
    badges: tuple[str, ...]
    speed: float = 1.0  # 1 = real time; 20 = twenty times faster
    walk_seconds: float = 12.0  # between two pick locations, at speed 1
    scan_seconds: float = 2.0  # each scan, at speed 1
    wrong_scan_rate: float = 0.03
    short_rate: float = 0.02
    idle_seconds: float = 20.0  # look again for work after this long without a cart
    timeout: float = 10.0
    seed: int = 0
    pack_station: str = ""  # a virtual packer packs picked orders here ("" = no packer)
    # The dock loader: None = the first dock door the API lists, "" = no loader.
    dock: str | None = None
    truck_parcels: int = 12  # a truck leaves once it holds this many parcels...
    truck_minutes: float = 30.0  # ...or this long (at speed 1) after its first parcel
    load_seconds: float = 8.0  # to carry one parcel onto the truck, at speed 1
    # The put-wall operator: None = the first simulated put wall on the light panel, "" = none.
    put_wall: str | None = None
    put_seconds: float = 3.0  # to put the units of one lit slot, at speed 1
    # The shift lead releases the next wave while fewer carts than this wait for a picker:
    # None = twice the number of pickers, 0 = never.
    release_below: int | None = None
    release_check_seconds: float = 30.0  # the lead looks at the floor this often, at speed 1
    order_rate: float = 2.0  # new webshop orders a minute at speed 1 (0 = no order feed)
    order_prefix: str = "SIM-"  # fed orders are numbered <prefix><run>-<n>
    order_batch_seconds: float = 60.0  # the orders that arrived are posted this often, speed 1


@dataclass
class PickerTally:
    """What one virtual picker did."""

    picks: int = 0
    scans: int = 0
    wrong_scans: int = 0
    shorts: int = 0
    batches: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    # (client id, wall time the answer came, milliseconds) of every scan that closed a pick
    pick_times: list[tuple[str, float, float]] = field(default_factory=list)
    # (wall time sent, milliseconds) of every scan's round trip
    scan_times: list[tuple[float, float]] = field(default_factory=list)


class VirtualPicker:
    """One simulated handheld with its own signed-in session and websocket."""

    def __init__(
        self,
        index: int,
        badge: str,
        options: SimulationOptions,
        gtin_of: GtinLookup,
        cart_done: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        import requests
        import socketio

        self.index, self.badge, self.options, self.gtin_of = index, badge, options, gtin_of
        self.cart_done = cart_done  # where a finished cluster cart is taken (the put wall)
        self._cart: dict[str, Any] | None = None
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        self.sio = socketio.Client(http_session=self.http, reconnection=False)
        self.sio.on("snapshot", self._on_snapshot, namespace=NAMESPACE)
        self.snapshot: dict[str, Any] = {}
        self.tally = PickerTally()
        self.random = random.Random(options.seed * 7919 + index)
        self.tag = f"S{index:03d}{uuid.uuid4().hex[:4].upper()}"
        self.totes = 0

    def _on_snapshot(self, data: Any) -> None:
        if isinstance(data, dict):
            self.snapshot = data

    def sign_in(self) -> None:
        """Badge sign-in through the real form (with its CSRF token)."""
        base, timeout = self.options.url.rstrip("/"), self.options.timeout
        page = self.http.get(f"{base}/badge", timeout=timeout)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if match is None:
            raise RuntimeError(f"no sign-in form at {base}/badge (HTTP {page.status_code})")
        answer = self.http.post(
            f"{base}/badge",
            data={"csrf_token": match.group(1), "badge": self.badge},
            allow_redirects=False,
            timeout=timeout,
        )
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"badge {self.badge} refused (HTTP {answer.status_code})")

    def connect(self) -> None:
        """Open the handheld's websocket (the snapshot arrives at once)."""
        self.sio.connect(
            self.options.url,
            namespaces=[NAMESPACE],
            transports=["websocket"],
            headers={"User-Agent": USER_AGENT},
            wait_timeout=self.options.timeout,
        )

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send one event and wait for its answer (as the handheld does)."""
        answer = self.sio.call(event, data, namespace=NAMESPACE, timeout=self.options.timeout)
        if not isinstance(answer, dict):
            raise RuntimeError(f"{event}: unexpected answer {answer!r}")
        if isinstance(answer.get("snapshot"), dict):
            self.snapshot = answer["snapshot"]
        return answer

    def _pause(self, seconds: float, stop: threading.Event) -> bool:
        """Wait ``seconds`` at the simulation's speed; False when asked to stop."""
        return not stop.wait(max(0.0, seconds / self.options.speed) * self.random.uniform(0.7, 1.3))

    def _scan(self, raw: str) -> dict[str, Any]:
        client_id = uuid.uuid4().hex
        payload = {
            "client_id": client_id,
            "raw": raw,
            "scanned_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        sent, started = time.time(), time.perf_counter()
        answer = self.call("scan", payload)
        elapsed = (time.perf_counter() - started) * 1000.0
        self.tally.scans += 1
        self.tally.scan_times.append((sent, elapsed))
        if answer.get("ok") and answer.get("reason") == "picked":
            self.tally.picks += 1
            self.tally.pick_times.append((client_id, time.time(), elapsed))
        elif not answer.get("ok"):
            self.tally.refused[str(answer.get("reason"))] += 1
        return answer

    def step(self, stop: threading.Event) -> bool:
        """Do the next thing the screen asks for; False when there is no work."""
        snap = self.snapshot
        step, task = snap.get("step"), snap.get("task") or {}
        self._follow_cart(snap.get("batch"))
        if step in (None, "idle", "done") or not snap.get("batch"):
            answer = self.call("take_batch", {})
            if answer.get("ok"):
                self.tally.batches += 1
                return True
            return False
        if step == "tote_start":
            self.totes += 1
            self._pause(self.options.scan_seconds, stop)
            self._scan(f"TOTE-{self.tag}-{self.totes:05d}")
        elif step == "location" and task:
            self._pause(self.options.walk_seconds, stop)
            if self.random.random() < self.options.wrong_scan_rate:
                self.tally.wrong_scans += 1
                self._scan(f"{task['location']}-X")  # the neighbouring slot's label
                self._pause(self.options.scan_seconds, stop)
            self._scan(str(task.get("location_barcode") or task["location"]))
        elif step == "item" and task:
            self._pause(self.options.scan_seconds, stop)
            if task.get("scanned", 0) == 0 and self.random.random() < self.options.short_rate:
                found = self.random.randint(0, max(0, int(task["quantity"]) - 1))
                answer = self.call(
                    "short", {"client_id": uuid.uuid4().hex, "task_id": task["id"], "found": found}
                )
                if answer.get("ok"):
                    self.tally.shorts += 1
                return True
            gtin = self.gtin_of(str(task["sku"]), str(task.get("unit") or "each"))
            self._scan(gtin or str(task["sku"]))
        elif step == "tote" and task:
            self._pause(self.options.scan_seconds, stop)
            self._scan(str(task["tote"]))
        elif step == "waiting":
            # Every pick left waits for a replenishment: wait, then look at the screen again.
            self._pause(self.options.idle_seconds / 4, stop)
            self.call("take_batch", {})
        elif step == "confirm" and task:
            started = time.perf_counter()
            client_id = uuid.uuid4().hex
            answer = self.call("confirm", {"client_id": client_id, "task_id": task["id"]})
            if answer.get("ok"):
                self.tally.picks += 1
                elapsed = (time.perf_counter() - started) * 1000.0
                self.tally.pick_times.append((client_id, time.time(), elapsed))
        else:
            self.call("take_batch", {})  # an unknown step: ask for the screen again
        return True

    def _follow_cart(self, batch: Any) -> None:
        """Remember the cluster cart in hand; once it is gone (done), push it to the wall."""
        code = batch.get("code") if isinstance(batch, dict) else None
        if self._cart is not None and code != self._cart.get("code"):
            if self.cart_done is not None:
                self.cart_done(self._cart)
            self._cart = None
        if code and batch.get("kind") == "cluster":
            self._cart = batch

    def run(self, stop: threading.Event, ready: threading.Barrier | None = None) -> None:
        """Sign in, connect, and work until ``stop`` is set."""
        try:
            self.sign_in()
            self.connect()
        except Exception as error:  # noqa: BLE001 - counted, and the others go on
            self.tally.errors[f"setup: {type(error).__name__}: {str(error)[:80]}"] += 1
            log.warning("virtual picker %s could not start: %s", self.badge, error)
            if ready is not None:
                with contextlib.suppress(threading.BrokenBarrierError):
                    ready.wait()
            return
        if ready is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                ready.wait()
        while not stop.is_set():
            try:
                if not self.step(stop) and not self._pause(self.options.idle_seconds, stop):
                    break
            except Exception as error:  # noqa: BLE001 - a dropped answer is retried
                self.tally.errors[type(error).__name__] += 1
                if not self.sio.connected:
                    break
                stop.wait(1.0)
        self.close()

    def close(self) -> None:
        """Hang up."""
        with contextlib.suppress(Exception):
            self.sio.disconnect()
        with contextlib.suppress(Exception):
            self.http.close()


class Supervisor:
    """A signed-in supervisor: looks up item barcodes and completes replenishments (REST API)."""

    def __init__(self, url: str, username: str, password: str, timeout: float = 10.0) -> None:
        import requests

        self.base, self.timeout = url.rstrip("/"), timeout
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT
        page = self.http.get(f"{self.base}/login", timeout=timeout)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if match is None:
            raise RuntimeError(f"no sign-in form at {self.base}/login (HTTP {page.status_code})")
        answer = self.http.post(
            f"{self.base}/login",
            data={"csrf_token": match.group(1), "username": username, "password": password},
            allow_redirects=False,
            timeout=timeout,
        )
        if answer.status_code not in (302, 303):
            raise RuntimeError(
                f"supervisor {username} could not sign in (HTTP {answer.status_code})"
            )
        self.http.headers["X-CSRFToken"] = match.group(1)
        self._gtins: dict[str, list[tuple[int, str]]] = {}
        self._lock = threading.Lock()

    def gtin_of(self, sku: str, unit: str = "each") -> str | None:
        """The barcode a picker scans for ``sku``: unit GTIN, or the case/pallet one."""
        with self._lock:
            known = self._gtins.get(sku)
        if known is None:
            from urllib.parse import quote

            answer = self.http.get(
                f"{self.base}/api/v1/items/{quote(sku, safe='')}", timeout=self.timeout
            )
            body = answer.json() if answer.ok else {}
            known = sorted((int(g["pack_quantity"]), str(g["gtin"])) for g in body.get("gtins", []))
            with self._lock:
                self._gtins[sku] = known
        if not known:
            return None
        if unit == "pallet":
            return known[-1][1]
        if unit == "case":
            cases = [g for q, g in known if q > 1]
            return cases[0] if cases else known[0][1]
        return known[0][1]

    def press_lit_lights(self, rng: random.Random, most: int = 1) -> int:
        """Press up to ``most`` lit lights of the simulated pick-to-light zones (not put walls).

        As a person at the rack does: the quantity shown is taken and confirmed; a zone's
        flashing order-complete light is pressed to pass the tote on.
        """
        answer = self.http.get(f"{self.base}/lights/panel", timeout=self.timeout)
        if not answer.ok:
            return 0
        lit = [
            (bus["device"], light["location"])
            for bus in answer.json().get("buses", [])
            if bus.get("simulated") and bus.get("zone")
            for light in bus.get("lights", [])
            if light.get("lit")
        ]
        pressed = 0
        for device, location in rng.sample(lit, min(most, len(lit))):
            posted = self.http.post(
                f"{self.base}/lights/press",
                json={"device": device, "location": location, "button": "confirm"},
                timeout=self.timeout,
            )
            pressed += int(posted.ok)
        return pressed

    def pack_one(self, station: str) -> str | None:
        """Pack the oldest picked order at ``station`` as a packer does; its number, or None.

        Opens the order by its number, scans every picked unit (GS1 with the lot for a
        lot-tracked line, trying the line's lots in turn), closes the parcel in the suggested
        carton at the estimated weight: stock moves, the order is packed, labels print.
        """
        api = f"{self.base}/api/v1"
        listed = self.http.get(
            f"{api}/orders", params={"status": "picked", "page_size": 1}, timeout=self.timeout
        )
        rows = listed.json().get("items", []) if listed.ok else []
        if not rows:
            return None
        number = str(rows[0]["number"])
        opened = self.http.post(
            f"{api}/pack/stations/{station}/open", json={"scan": number}, timeout=self.timeout
        )
        if not opened.ok:
            return None
        view = opened.json()
        for line in view.get("lines", []):
            gtin = str(line["gtin"]).zfill(14)
            codes = [f"]C101{gtin}10{lot}" for lot in line["lots"]] if line["lot_tracked"] else []
            codes = codes or [gtin]
            for _ in range(int(line["remaining"]) - int(line["in_parcel"])):
                for code in codes:
                    scanned = self.http.post(
                        f"{api}/pack/orders/{number}/scan",
                        json={"scan": code, "station": station},
                        timeout=self.timeout,
                    )
                    if scanned.ok:
                        break
        view = self.http.get(f"{api}/pack/orders/{number}", timeout=self.timeout).json()
        closed = self.http.post(
            f"{api}/pack/orders/{number}/close",
            json={
                "carton": view.get("suggested_carton") or "",
                "weight_g": max(1, int(view.get("estimated_weight_g") or 1)),
                "split": False,
                "station": station,
            },
            timeout=self.timeout,
        )
        return number if closed.ok else None

    def complete_replenishments(self) -> int:
        """Bring stock to the pick faces that picks wait for (as a reach-truck driver would)."""
        answer = self.http.get(
            f"{self.base}/api/v1/replenishments?status=open&page_size=100", timeout=self.timeout
        )
        done = 0
        for row in answer.json().get("items", []) if answer.ok else []:
            posted = self.http.post(
                f"{self.base}/api/v1/replenishments/{row['id']}/complete", timeout=self.timeout
            )
            done += int(posted.ok)
        return done

    # ------------------------------------------------------------------ the dock

    def dock_doors(self) -> list[str]:
        """The dock doors' codes (locations of type ``dock``)."""
        answer = self.http.get(
            f"{self.base}/api/v1/locations",
            params={"type": "dock", "page_size": 100},
            timeout=self.timeout,
        )
        return [str(row["code"]) for row in answer.json().get("items", [])] if answer.ok else []

    def parcels_to_load(self) -> list[tuple[str, str, str]]:
        """(order, the order's dock or "", label) of each closed parcel of the packed orders.

        The label is what the loader scans: the GS1-128 SSCC barcode of a B2B parcel, the
        tracking number of a B2C one.
        """
        api, found, page = f"{self.base}/api/v1", [], 1
        while True:
            listed = self.http.get(
                f"{api}/orders",
                params={"status": "packed", "page_size": 100, "page": page},
                timeout=self.timeout,
            )
            body = listed.json() if listed.ok else {}
            for row in body.get("items", []):
                number = str(row["number"])
                parcels = self.http.get(
                    f"{api}/parcels", params={"order": number}, timeout=self.timeout
                )
                for parcel in parcels.json().get("items", []) if parcels.ok else []:
                    if parcel.get("status") != "closed":
                        continue
                    sscc, tracking = parcel.get("sscc"), parcel.get("tracking_number")
                    label = f"]C100{sscc}" if sscc else str(tracking or "")
                    if label:
                        found.append((number, str(row.get("dock") or ""), label))
            if page >= int(body.get("pages") or 0):
                return found
            page += 1

    def load_parcel(self, dock: str, label: str) -> dict[str, Any] | None:
        """Scan a parcel's label at a dock door: the load answer, or None when refused."""
        answer = self.http.post(
            f"{self.base}/api/v1/docks/{dock}/load", json={"scan": label}, timeout=self.timeout
        )
        if not answer.ok:
            log.info("dock %s refused %s: %s", dock, label, answer.text[:200])
            return None
        result: dict[str, Any] = answer.json()
        return result

    def open_shipments(self) -> list[dict[str, Any]]:
        """The open shipments (trucks at a door), with their parcels."""
        answer = self.http.get(
            f"{self.base}/api/v1/shipments",
            params={"status": "open", "page_size": 100},
            timeout=self.timeout,
        )
        return list(answer.json().get("items", [])) if answer.ok else []

    def ship(self, shipment_id: int) -> dict[str, Any] | None:
        """The truck leaves: the shipped shipment, or None when refused."""
        answer = self.http.post(
            f"{self.base}/api/v1/shipments/{shipment_id}/ship", timeout=self.timeout
        )
        if not answer.ok:
            log.info("shipment %s not shipped: %s", shipment_id, answer.text[:200])
            return None
        result: dict[str, Any] = answer.json()
        return result

    # ------------------------------------------------------------------ the flow of work

    def waiting_carts(self) -> int:
        """Pick carts (batches) released but not yet being picked: status open or assigned."""
        answer = self.http.get(
            f"{self.base}/api/v1/batches",
            params={"status": "open,assigned", "page_size": 1},
            timeout=self.timeout,
        )
        answer.raise_for_status()
        return int(answer.json().get("total") or 0)

    def planned_waves(self) -> list[dict[str, Any]]:
        """The planned waves, earliest cut-off first (then the highest priority)."""
        answer = self.http.get(
            f"{self.base}/api/v1/waves",
            params={"status": "planned", "page_size": 500},
            timeout=self.timeout,
        )
        answer.raise_for_status()
        waves = list(answer.json().get("items", []))
        return sorted(
            waves,
            key=lambda w: (w.get("cut_off") is None, str(w.get("cut_off") or ""),
                           -int(w.get("priority") or 0), str(w["code"])),
        )  # fmt: skip

    def orders_to_plan(self) -> int:
        """Allocated (or partly allocated) orders: those of no wave are what planning takes."""
        answer = self.http.get(
            f"{self.base}/api/v1/orders",
            params={"status": "allocated,partly_allocated", "page_size": 1},
            timeout=self.timeout,
        )
        answer.raise_for_status()
        return int(answer.json().get("total") or 0)

    def plan_waves(self) -> list[dict[str, Any]]:
        """Plan waves of the allocated orders in no wave (``POST /api/v1/waves/plan``)."""
        answer = self.http.post(f"{self.base}/api/v1/waves/plan", json={}, timeout=self.timeout)
        if not answer.ok:
            log.info("waves not planned: %s", answer.text[:200])
            return []
        return list(answer.json().get("waves", []))

    def release_wave(self, code: str) -> dict[str, Any] | None:
        """Release a planned wave to the floor: the release result, or None when refused."""
        from urllib.parse import quote

        answer = self.http.post(
            f"{self.base}/api/v1/waves/{quote(code, safe='/')}/release",
            json={},
            timeout=self.timeout,
        )
        if not answer.ok:
            log.info("wave %s not released: %s", code, answer.text[:200])
            return None
        result: dict[str, Any] = answer.json()
        return result

    def available_stock(self, max_pages: int = 20) -> dict[str, int]:
        """Units free to promise per SKU (on hand minus reserved, over every location)."""
        found: Counter[str] = Counter()
        page = 1
        while page <= max_pages:
            answer = self.http.get(
                f"{self.base}/api/v1/stock",
                params={"page_size": 500, "page": page},
                timeout=self.timeout,
            )
            answer.raise_for_status()
            body = answer.json()
            for row in body.get("items", []):
                if int(row.get("available") or 0) > 0:
                    found[str(row["sku"])] += int(row["available"])
            if page >= int(body.get("pages") or 0):
                break
            page += 1
        return dict(found)

    def create_order(self, order: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Post a new order (``POST /api/v1/orders``): (HTTP status, answer)."""
        answer = self.http.post(f"{self.base}/api/v1/orders", json=order, timeout=self.timeout)
        body: dict[str, Any] = (
            answer.json()
            if answer.headers.get("content-type", "").startswith("application/json")
            else {"error": answer.text[:200]}
        )
        return answer.status_code, body


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


@dataclass
class FlowTally:
    """What the virtual shift lead did: waves planned and released, orders fed in."""

    waves_planned: int = 0
    waves_released: int = 0
    orders_released: int = 0  # orders of the released waves
    carts_released: int = 0  # pick batches the released waves became
    orders_fed: int = 0  # new orders the feed posted and the API recorded
    lines_fed: int = 0
    units_fed: int = 0
    fed_backordered: int = 0  # fed orders recorded but not (wholly) allocated
    orders_refused: int = 0  # fed orders the API refused
    no_stock: int = 0  # feed rounds cut short: no SKU with free stock left to order
    errors: Counter[str] = field(default_factory=Counter)


# Webshop carriers: their last collection of the day (hour, UTC) and services (as the demo's).
FEED_CARRIERS: tuple[tuple[str, int, tuple[str, ...], float], ...] = (
    ("bpost", 18, ("24h Pro", "Pick-up point"), 0.4),
    ("PostNL", 16, ("Standard", "Pick-up point"), 0.25),
    ("DPD", 14, ("Classic", "Predict"), 0.2),
    ("DHL", 16, ("Parcel Connect", "Express"), 0.15),
)
FEED_ADDRESSES: tuple[tuple[str, str, str, str], ...] = (
    ("BE", "Kerkstraat", "2000", "Antwerpen"),
    ("BE", "Rue de la Loi", "1000", "Bruxelles"),
    ("BE", "Stationsstraat", "9000", "Gent"),
    ("NL", "Dorpsstraat", "3511 AA", "Utrecht"),
    ("NL", "Kalverstraat", "1012 AB", "Amsterdam"),
    ("FR", "rue Victor Hugo", "59000", "Lille"),
)
FEED_NAMES = ("Emma", "Louis", "Lieke", "Daan", "Camille", "Hugo", "Mila", "Noah", "Jade")
FEED_SURNAMES = ("Peeters", "Janssens", "de Vries", "Bakker", "Martin", "Dubois", "Maes")


def next_collection(now: dt.datetime, hour: int, margin_minutes: float = 60.0) -> dt.datetime:
    """The carrier's next collection at ``hour`` (UTC) that leaves ``margin_minutes`` to pick."""
    now = now.astimezone(dt.UTC)
    day = now.date()
    while True:
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
        if moment - now >= dt.timedelta(minutes=margin_minutes):
            return moment
        day += dt.timedelta(days=1)


class ShiftLead:
    """The supervisor who keeps the floor busy, and the webshop that keeps ordering.

    Release: every ``release_check_seconds`` (at the simulation's speed) the lead counts the
    pick carts waiting for a picker (``GET /api/v1/batches?status=open,assigned``); below
    ``release_below`` the next planned wave is released (``GET /api/v1/waves?status=planned``,
    earliest cut-off first; ``POST /api/v1/waves/<code>/release``), wave after wave until
    enough carts wait. With no wave planned while allocated orders wait, the lead plans waves
    first (``POST /api/v1/waves/plan``).

    Feed: new B2C orders arrive at random (a Poisson stream of ``order_rate`` orders a minute
    at speed 1) and are posted as the webshop would (``POST /api/v1/orders``, allocated at
    once), numbered ``<order_prefix><run>-<n>``, for SKUs with free stock
    (``GET /api/v1/stock``, read again now and then), one to four lines of one or two units.
    """

    def __init__(self, supervisor: Supervisor, options: SimulationOptions, release_below: int):
        self.supervisor, self.options = supervisor, options
        self.release_below = release_below
        self.tally = FlowTally()
        self.random = random.Random(options.seed * 97 + 13)
        self.run_id = uuid.uuid4().hex[:6].upper()
        self._fed = 0
        self._stock: dict[str, int] = {}
        self._stock_read = -1e9  # monotonic time of the last stock read
        self._refused_waves: set[str] = set()

    # -- releasing waves

    def release_round(self) -> int:
        """Release planned waves while fewer than ``release_below`` carts wait; how many."""
        if self.release_below <= 0:
            return 0
        waiting = self.supervisor.waiting_carts()
        released = 0
        planned_once = False
        while waiting < self.release_below:
            waves = [
                w
                for w in self.supervisor.planned_waves()
                if str(w["code"]) not in self._refused_waves
            ]
            if not waves and not planned_once and self.supervisor.orders_to_plan():
                planned_once = True
                new = self.supervisor.plan_waves()
                self.tally.waves_planned += len(new)
                if new:
                    log.info(
                        "supervisor planned %d wave(s) of %d order(s)",
                        len(new),
                        sum(int(w.get("orders") or 0) for w in new),
                    )
                continue
            if not waves:
                break
            wave = waves[0]
            code = str(wave["code"])
            result = self.supervisor.release_wave(code)
            if result is None:
                self._refused_waves.add(code)
                self.tally.errors["wave refused"] += 1
                continue
            carts = len(result.get("batches") or [])
            self.tally.waves_released += 1
            self.tally.orders_released += int(result.get("orders") or 0)
            self.tally.carts_released += carts
            released += 1
            log.info(
                "supervisor released wave %s (cut-off %s, %s): %d order(s) in %d cart(s), "
                "%d pick(s); %d cart(s) were waiting (below %d)",
                code,
                wave.get("cut_off") or "-",
                wave.get("carrier") or "-",
                int(result.get("orders") or 0),
                carts,
                int(result.get("tasks") or 0),
                waiting,
                self.release_below,
            )
            waiting += carts
        return released

    # -- the order feed

    def arrivals(self, minutes: float) -> int:
        """How many orders arrive in ``minutes`` of simulated time (Poisson)."""
        rate = self.options.order_rate * minutes
        if rate <= 0:
            return 0
        count, elapsed = 0, self.random.expovariate(1.0)
        while elapsed < rate:
            count += 1
            elapsed += self.random.expovariate(1.0)
        return count

    def _skus(self) -> dict[str, int]:
        now = time.monotonic()
        if now - self._stock_read > max(5.0, 300.0 / self.options.speed) or not self._stock:
            self._stock = {s: n for s, n in self.supervisor.available_stock().items() if n >= 2}
            self._stock_read = now
        return self._stock

    def new_order(self, now: dt.datetime | None = None) -> dict[str, Any] | None:
        """The next webshop order (a ``POST /api/v1/orders`` body), or None without stock."""
        stock = self._skus()
        if not stock:
            return None
        r = self.random.random()
        line_count = 1 if r < 0.65 else 2 if r < 0.9 else 3 if r < 0.97 else 4
        skus = sorted(stock)
        chosen = dict.fromkeys(
            self.random.choices(skus, weights=[stock[s] for s in skus], k=line_count)
        )
        lines = []
        for sku in chosen:
            quantity = min(stock[sku], 1 if self.random.random() < 0.85 else 2)
            if quantity > 0:
                lines.append({"sku": sku, "quantity": quantity})
                stock[sku] -= quantity  # reserved by this order (until the next stock read)
        for sku in [s for s in chosen if stock.get(s, 0) < 1]:
            stock.pop(sku, None)
        if not lines:
            return None
        carrier, hour, services, _ = self.random.choices(
            FEED_CARRIERS, weights=[c[3] for c in FEED_CARRIERS]
        )[0]
        country, street, postcode, city = self.random.choice(FEED_ADDRESSES)
        self._fed += 1
        return {
            "number": f"{self.options.order_prefix}{self.run_id}-{self._fed:05d}",
            "kind": "b2c",
            "ship_to": {
                "name": f"{self.random.choice(FEED_NAMES)} {self.random.choice(FEED_SURNAMES)}",
                "address": f"{street} {self.random.randint(1, 180)}",
                "postcode": postcode,
                "city": city,
                "country": country,
            },
            "priority": 0 if self.random.random() < 0.9 else 1,
            "cut_off": next_collection(now or dt.datetime.now(dt.UTC), hour).isoformat(),
            "carrier": carrier,
            "service": self.random.choice(services),
            "lines": lines,
        }

    def feed(self, count: int, stop: threading.Event | None = None) -> int:
        """Post ``count`` new orders; how many the API recorded (one log line per batch)."""
        recorded: list[str] = []
        lines = units = backordered = refused = 0
        for _ in range(count):
            if stop is not None and stop.is_set():
                break
            order = self.new_order()
            if order is None:
                self.tally.no_stock += 1
                log.info("order feed: no SKU with free stock left to order")
                break
            status, body = self.supervisor.create_order(order)
            if status != 201:
                refused += 1
                log.info("order %s refused (HTTP %d): %s", order["number"], status, body)
                continue
            recorded.append(str(order["number"]))
            lines += len(order["lines"])
            units += sum(int(line["quantity"]) for line in order["lines"])
            if (body.get("allocation") or {}).get("status", body.get("status")) != "allocated":
                backordered += 1
        self.tally.orders_fed += len(recorded)
        self.tally.lines_fed += lines
        self.tally.units_fed += units
        self.tally.fed_backordered += backordered
        self.tally.orders_refused += refused
        if recorded or refused:
            log.info(
                "order feed: %d new order(s) %s (%d line(s), %d unit(s)); %d not wholly "
                "allocated, %d refused",
                len(recorded),
                f"{recorded[0]}..{recorded[-1]}" if len(recorded) > 1 else "".join(recorded),
                lines,
                units,
                backordered,
                refused,
            )
        return len(recorded)


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
