"""The virtual picker (a Socket.IO handheld following the handheld protocol) and its tally."""

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

from web.simulate.options import USER_AGENT, GtinLookup, SimulationOptions

NAMESPACE = "/handheld"
log = logging.getLogger(__name__)


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
