"""Cart batching: totes per cart, urgency first, and much less walking than FCFS."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from picking.batching import (
    Cart,
    Order,
    OrderLine,
    batch_orders,
    fcfs_batches,
    random_orders,
    urgency_order,
)
from picking.layout import Layout, PickPoint, random_layout
from picking.routing import Method, RoutingError

NOON = datetime(2025, 3, 3, 12, 0)


def order(order_id: str, aisle: int, y: float, *, priority: int = 1, hours: int = 4) -> Order:
    """A one-line order."""
    line = OrderLine(PickPoint(aisle, y, f"A{aisle}-{y}"), 1, 1.0, f"{order_id}-1")
    return Order(order_id, priority, NOON + timedelta(hours=hours), (line,))


def test_carts_hold_at_most_their_totes_and_every_order_once() -> None:
    layout = random_layout(3, "sparse")
    orders = random_orders(layout, 300, 3)
    plan = batch_orders(layout, orders, Cart(totes=7))
    assert [b.sequence for b in plan.batches] == list(range(1, len(plan.batches) + 1))
    assert all(1 <= len(b.order_ids) <= 7 for b in plan.batches)
    assert len(plan.batches) == 43  # ceil(300 / 7): carts are filled
    placed = Counter(o for b in plan.batches for o in b.order_ids)
    assert placed == Counter(o.order_id for o in orders)
    by_id = {o.order_id: o for o in orders}
    for batch in plan.batches:
        assert sorted(batch.totes.values()) == list(range(1, len(batch.order_ids) + 1))
        assert [p.sequence for p in batch.picks] == list(range(1, len(batch.picks) + 1))
        expected = Counter(
            (line.ref, line.quantity) for o in batch.order_ids for line in by_id[o].lines
        )
        assert Counter((p.ref, p.quantity) for p in batch.picks) == expected
        assert all(p.tote == batch.totes[p.order_id] for p in batch.picks)
        # Picks follow the route, and totes are handed out in the order the route reaches them.
        route_places = list(dict.fromkeys((p.aisle, p.y) for p in batch.route.picks))
        pick_places = list(dict.fromkeys((p.point.aisle, p.point.y) for p in batch.picks))
        assert pick_places == route_places
        first_tote = list(dict.fromkeys(p.tote for p in batch.picks))
        assert first_tote == sorted(first_tote)


def test_orders_too_big_for_a_tote_are_set_aside() -> None:
    layout = Layout.uniform(4, 20.0, 3.0)
    small = order("S1", 1, 5.0)
    big = Order("B1", 1, NOON, (OrderLine(PickPoint(2, 4.0), 9, 30.0),))
    plan = batch_orders(layout, [small, big], Cart(totes=4, tote_units=5))
    assert plan.oversize == ("B1",)
    assert [b.order_ids for b in plan.batches] == [("S1",)]
    plan = batch_orders(layout, [small, big], Cart(totes=4, tote_volume=20.0))
    assert plan.oversize == ("B1",)


def test_nearby_orders_share_a_cart_not_the_next_in_line() -> None:
    layout = Layout.uniform(10, 20.0, 3.0)
    # Arrivals alternate between aisle 1 and aisle 8; FCFS would mix them on every cart.
    orders = [order(f"O{i}", 1 if i % 2 == 0 else 8, 2.0 + i) for i in range(8)]
    plan = batch_orders(layout, orders, Cart(totes=4))
    aisles = [{o.point.aisle for o in b.picks} for b in plan.batches]
    assert aisles == [{1}, {8}]
    fcfs = fcfs_batches(layout, orders, Cart(totes=4))
    assert plan.distance < 0.75 * fcfs.distance


def test_the_most_urgent_order_is_in_the_first_cart_however_far() -> None:
    layout = Layout.uniform(10, 20.0, 3.0)
    near = [order(f"N{i}", 0, 2.0 + i) for i in range(6)]
    far = order("FAR", 9, 19.0, priority=0)  # expedited
    plan = batch_orders(layout, [*near, far], Cart(totes=3))
    assert "FAR" in plan.batches[0].order_ids
    # An earlier cut-off outranks a later one at the same priority.
    late, early = order("LATE", 0, 1.0, hours=8), order("EARLY", 9, 19.0, hours=2)
    plan = batch_orders(layout, [*near, late, early], Cart(totes=3))
    assert "EARLY" in plan.batches[0].order_ids


def test_no_order_is_overtaken_from_beyond_the_window() -> None:
    layout = random_layout(8, "sparse")
    orders = random_orders(layout, 400, 8)
    window = 30
    plan = batch_orders(layout, orders, Cart(totes=6), window=window)
    rank = {orders[i].order_id: r for r, i in enumerate(urgency_order(orders))}
    waiting = sorted(rank, key=rank.__getitem__)
    for batch in plan.batches:
        positions = sorted(waiting.index(o) for o in batch.order_ids)
        assert positions[0] == 0  # seeded with the most urgent waiting order
        assert positions[-1] < window  # and filled only from the window
        waiting = [o for o in waiting if o not in batch.order_ids]
    assert not waiting


def test_release_beats_fcfs_by_a_quarter() -> None:
    layout = random_layout(5, "sparse")
    orders = random_orders(layout, 1200, 5)
    cart = Cart(totes=8, tote_units=10)
    plan = batch_orders(layout, orders, cart)
    fcfs = fcfs_batches(layout, orders, cart)
    assert sum(len(b.order_ids) for b in plan.batches) == len(orders) - len(plan.oversize)
    assert plan.distance <= 0.75 * fcfs.distance
    # Every cart's route is the exact one, never longer than S-shape on the same cart.
    assert all(b.route.method is Method.EXACT_DP for b in plan.batches)


def test_one_way_layout_and_zones() -> None:
    layout = random_layout(6, "dense", one_way=True, zones=2)
    zone = layout.zones[0]
    orders = random_orders(layout, 60, 6, zone=zone.name)
    plan = batch_orders(layout, orders, Cart(totes=5), zone=zone.name)
    assert all(p.point.aisle in zone.aisles for b in plan.batches for p in b.picks)
    assert all(b.route.zone == zone.name for b in plan.batches)
    fcfs = fcfs_batches(layout, orders, Cart(totes=5), zone=zone.name)
    assert plan.distance < fcfs.distance
    with pytest.raises(RoutingError, match="outside the routed area"):
        batch_orders(layout, random_orders(layout, 20, 1), Cart(totes=5), zone=zone.name)


def test_random_orders_are_reproducible_and_about_one_point_two_lines() -> None:
    layout = random_layout(1, "sparse")
    orders = random_orders(layout, 2000, 1)
    assert orders == random_orders(layout, 2000, 1)
    lines = sum(len(o.lines) for o in orders) / len(orders)
    assert 1.1 < lines < 1.3
    assert {o.priority for o in orders} == {0, 1}
