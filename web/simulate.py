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
        self, index: int, badge: str, options: SimulationOptions, gtin_of: GtinLookup
    ) -> None:
        import requests
        import socketio

        self.index, self.badge, self.options, self.gtin_of = index, badge, options, gtin_of
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
        self.pickers = [
            VirtualPicker(i, badge, options, gtin_of) for i, badge in enumerate(options.badges, 1)
        ]
        self._threads: list[threading.Thread] = []

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
            jobs = (
                (self._replenish, "sim-replenisher"),
                (self._press, "sim-lights"),
                (self._pack, "sim-packer"),
            )
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
