"""The virtual shift lead (wave release, the webshop order feed), its tally and the feed's data."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from web.simulate.options import SimulationOptions
from web.simulate.supervisor import Supervisor

log = logging.getLogger(__name__)


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
