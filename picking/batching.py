"""Cart batching for B2C cluster picking: orders close together share a cart, urgent ones first.

The rule (seed and grow, inside an urgency window):

1. Orders are ranked by urgency: priority (0 = most urgent, e.g. expedited), then cut-off, then
   arrival (their position in the input).
2. Every new cart starts from the most urgent order still waiting (the seed).
3. The cart is filled, one tote per order, from the `window` most urgent waiting orders only,
   always taking the order that adds the least estimated walking to the cart so far (ties go to
   the more urgent order).
4. Carts are released in the order they were built.

So the most urgent waiting order is always in the next cart, an order is in a cart at the latest
once every more urgent order is, and no order is ever overtaken by one ranked more than `window`
places behind it: urgent orders cannot be starved by well-placed later ones.

The estimate used to grow a cart is cheap on purpose (thousands of candidates per second): twice
the cross-aisle span from the depot, plus for each aisle the cheaper of walking it end to end and
walking in to its deepest pick and back. Each finished cart is then routed properly by
`picking.routing.route`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from picking.layout import Layout, LayoutError, PickPoint
from picking.routing import Method, Route, RoutingError, route


@dataclass(frozen=True)
class OrderLine:
    """A quantity to pick at one place; `ref` is the caller's id for it (line or reservation)."""

    point: PickPoint
    quantity: int = 1
    volume: float = 0.0  # litres for the whole line, for a tote volume limit
    ref: str = ""


@dataclass(frozen=True)
class Order:
    """A small order: one tote on the cart. Lower priority numbers are more urgent."""

    order_id: str
    priority: int
    cut_off: datetime
    lines: tuple[OrderLine, ...]

    @property
    def units(self) -> int:
        """Units in the order."""
        return sum(line.quantity for line in self.lines)

    @property
    def volume(self) -> float:
        """Litres in the order."""
        return sum(line.volume for line in self.lines)


@dataclass(frozen=True)
class Cart:
    """A cluster-picking cart: how many totes, and optionally what one tote holds."""

    totes: int = 8
    tote_units: int | None = None
    tote_volume: float | None = None

    def fits(self, order: Order) -> bool:
        """True when the order fits in one tote."""
        return (self.tote_units is None or order.units <= self.tote_units) and (
            self.tote_volume is None or order.volume <= self.tote_volume
        )


@dataclass(frozen=True)
class BatchPick:
    """One pick of a batch: where, for which order and tote, how many, its place in the route."""

    sequence: int  # 1-based place in the route
    point: PickPoint
    order_id: str
    tote: int  # 1-based tote position on the cart
    quantity: int
    ref: str


@dataclass(frozen=True)
class Batch:
    """One cart: its orders, which tote each goes in, and the picks in walking order."""

    sequence: int  # 1-based release order
    order_ids: tuple[str, ...]
    totes: Mapping[str, int]
    picks: tuple[BatchPick, ...]
    route: Route


@dataclass(frozen=True)
class BatchPlan:
    """Batches in release order, plus the orders too large for one tote (to pick otherwise)."""

    batches: tuple[Batch, ...]
    oversize: tuple[str, ...]

    @property
    def distance(self) -> float:
        """Total walking distance of all batches in metres."""
        return sum(b.route.distance for b in self.batches)


def urgency_order(orders: Sequence[Order]) -> list[int]:
    """Indexes of `orders`, most urgent first: priority, cut-off, then arrival."""
    return sorted(range(len(orders)), key=lambda i: (orders[i].priority, orders[i].cut_off, i))


def batch_orders(
    layout: Layout,
    orders: Sequence[Order],
    cart: Cart,
    *,
    zone: str | None = None,
    window: int | None = None,
    method: Method | str = Method.BEST,
    time_limit_ms: float = 5.0,
) -> BatchPlan:
    """Group orders into carts of nearby orders (see the module doc for the rule) and route them.

    `window` defaults to 25 carts' worth of orders. `time_limit_ms` bounds each cart's local
    search, which only runs on one-way layouts for carts of more than 12 stops; there a short
    one loses almost nothing, as it starts from an exact route over whole aisle pieces.
    """
    if cart.totes < 1:
        raise ValueError("a cart needs at least one tote")
    window = window or 25 * cart.totes
    fitting = [i for i in urgency_order(orders) if cart.fits(orders[i])]
    oversize = tuple(o.order_id for o in orders if not cart.fits(o))
    groups = _grow_batches(layout, orders, fitting, cart.totes, window, zone)
    batches = tuple(
        _make_batch(layout, [orders[i] for i in group], n, zone, method, time_limit_ms)
        for n, group in enumerate(groups, start=1)
    )
    return BatchPlan(batches, oversize)


def fcfs_batches(
    layout: Layout,
    orders: Sequence[Order],
    cart: Cart,
    *,
    zone: str | None = None,
    method: Method | str = Method.S_SHAPE,
) -> BatchPlan:
    """The baseline: carts filled first come, first served (input order), routed by S-shape."""
    fitting = [o for o in orders if cart.fits(o)]
    oversize = tuple(o.order_id for o in orders if not cart.fits(o))
    batches = tuple(
        _make_batch(layout, fitting[i : i + cart.totes], i // cart.totes + 1, zone, method, 5.0)
        for i in range(0, len(fitting), cart.totes)
    )
    return BatchPlan(batches, oversize)


def _grow_batches(
    layout: Layout,
    orders: Sequence[Order],
    ranked: list[int],
    totes: int,
    window: int,
    zone: str | None,
) -> list[list[int]]:
    """Order indexes per cart, by the seed-and-grow rule; vectorised over the window."""
    network = layout.network(zone)
    aisle_count = len(layout.aisles)
    lengths = np.array([a.length for a in layout.aisles])
    aisle_x = np.array([a.x for a in layout.aisles])
    depot_x = network.columns[network.depot_column].x
    # Each order's footprint: per aisle the deepest pick (CSR arrays), and its x extent.
    pointer = np.zeros(len(orders) + 1, dtype=np.intp)
    foot_aisle: list[int] = []
    foot_depth: list[float] = []
    for i, order in enumerate(orders):
        deepest: dict[int, float] = {}
        for line in order.lines:
            try:
                network.locate(line.point)
            except LayoutError as exc:  # fail before any cart is built, naming the order
                raise RoutingError(f"order {order.order_id}: {exc}") from exc
            deepest[line.point.aisle] = max(deepest.get(line.point.aisle, 0.0), line.point.y)
        foot_aisle.extend(deepest)
        foot_depth.extend(deepest.values())
        pointer[i + 1] = len(foot_aisle)
    aisles = np.array(foot_aisle, dtype=np.intp)
    depths = np.array(foot_depth)
    order_lo = np.full(len(orders), depot_x)
    order_hi = np.full(len(orders), depot_x)
    for i in range(len(orders)):
        xs = aisle_x[aisles[pointer[i] : pointer[i + 1]]]
        if len(xs):
            order_lo[i], order_hi[i] = xs.min(), xs.max()

    pending = np.array(ranked, dtype=np.intp)
    groups: list[list[int]] = []
    while len(pending):
        candidates = pending[:window]
        starts = pointer[candidates]
        counts = pointer[candidates + 1] - starts
        owner = np.repeat(np.arange(len(candidates)), counts)
        flat = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        entry_aisle, entry_depth = aisles[flat], depths[flat]
        entry_length = lengths[entry_aisle]
        cand_lo, cand_hi = order_lo[candidates], order_hi[candidates]
        # The cart so far: the deepest pick per aisle and the x extent with the depot.
        reach = np.zeros(aisle_count)
        lo = hi = depot_x
        taken = np.zeros(len(candidates), dtype=bool)
        chosen: list[int] = []
        pick = 0  # the seed: the most urgent waiting order
        while True:
            chosen.append(pick)
            taken[pick] = True
            mine = owner == pick
            np.maximum.at(reach, entry_aisle[mine], entry_depth[mine])
            lo, hi = min(lo, float(cand_lo[pick])), max(hi, float(cand_hi[pick]))
            if len(chosen) == totes or taken.all():
                break
            now = reach[entry_aisle]
            added = np.minimum(entry_length, 2 * np.maximum(now, entry_depth)) - np.minimum(
                entry_length, 2 * now
            )
            cost = np.bincount(owner, weights=added, minlength=len(candidates)).astype(float)
            cost += 2 * (np.maximum(hi, cand_hi) - np.minimum(lo, cand_lo) - (hi - lo))
            # Ties go to the more urgent order: candidates are in urgency order, and a tiny
            # rank term (far below a centimetre) breaks exact ties without outweighing metres.
            cost += np.arange(len(candidates)) * 1e-9
            cost[taken] = np.inf
            pick = int(cost.argmin())
        groups.append([int(candidates[c]) for c in chosen])
        pending = np.concatenate([candidates[~taken], pending[window:]])
    return groups


def _make_batch(
    layout: Layout,
    orders: Sequence[Order],
    sequence: int,
    zone: str | None,
    method: Method | str,
    time_limit_ms: float,
) -> Batch:
    """Route one cart and hand out totes in the order the route first reaches each order."""
    lines = [(order, line) for order in orders for line in order.lines]
    trip = route(
        layout,
        [line.point for _, line in lines],
        method=method,
        zone=zone,
        time_limit_ms=time_limit_ms,
        baselines=False,
    )
    place_rank: dict[tuple[int, float], int] = {}
    for point in trip.picks:
        place_rank.setdefault((point.aisle, point.y), len(place_rank))
    lines.sort(key=lambda ol: (place_rank[(ol[1].point.aisle, ol[1].point.y)], ol[0].order_id))
    totes: dict[str, int] = {}
    for order, _ in lines:
        totes.setdefault(order.order_id, len(totes) + 1)
    for order in orders:  # an order without lines still gets its tote
        totes.setdefault(order.order_id, len(totes) + 1)
    picks = tuple(
        BatchPick(n, line.point, order.order_id, totes[order.order_id], line.quantity, line.ref)
        for n, (order, line) in enumerate(lines, start=1)
    )
    return Batch(sequence, tuple(o.order_id for o in orders), totes, picks, trip)


def random_orders(
    layout: Layout,
    count: int,
    seed: int,
    *,
    zone: str | None = None,
    start: datetime = datetime(2025, 3, 3, 8, 0),
) -> list[Order]:
    """Reproducible B2C orders: about 1.2 lines each, three cut-offs, 5 % expedited."""
    rng = random.Random(seed)
    aisles = sorted(layout.zone_named(zone).aisles) if zone else range(len(layout.aisles))
    slots = [
        (a, bay, side)
        for a in aisles
        for bay in range(int(layout.aisles[a].length))
        for side in "LR"
    ]
    cut_offs = [start + timedelta(hours=h) for h in (6, 8, 10)]
    orders = []
    for n in range(count):
        roll = rng.random()
        line_count = 1 if roll < 0.83 else 2 if roll < 0.97 else 3
        lines: list[OrderLine] = []
        for _ in range(line_count):
            a, bay, side = rng.choice(slots)
            quantity = rng.choice((1, 1, 1, 2, 3))
            lines.append(
                OrderLine(
                    PickPoint(a, bay + 0.5, f"A{a:02d}-{bay:03d}{side}"),
                    quantity,
                    round(quantity * rng.uniform(0.2, 4.0), 2),
                    f"SO{n:05d}-{len(lines) + 1}",
                )
            )
        priority = 0 if rng.random() < 0.05 else 1
        orders.append(Order(f"SO{n:05d}", priority, rng.choice(cut_offs), tuple(lines)))
    return orders
