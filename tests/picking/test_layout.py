"""Distances on the layout graph, checked against walks worked out by hand."""

from __future__ import annotations

import pytest

from picking.layout import (
    Aisle,
    Direction,
    Layout,
    LayoutError,
    PickPoint,
    Zone,
    random_layout,
    random_picks,
)
from picking.routing import route

# Three aisles 4 m apart, 10 m long, depot at the front of aisle 0.
SMALL = Layout.uniform(3, 10.0, 4.0)


def depot_to(layout: Layout, point: PickPoint, zone: str | None = None) -> float:
    """Distance from the depot to a point."""
    return float(layout.network(zone).matrix([point])[0, 1])


def point_to_depot(layout: Layout, point: PickPoint, zone: str | None = None) -> float:
    """Distance from a point back to the depot."""
    return float(layout.network(zone).matrix([point])[1, 0])


def test_same_aisle_is_a_straight_walk() -> None:
    assert SMALL.distance(PickPoint(0, 2.0), PickPoint(0, 7.0)) == 5.0


def test_depot_along_the_front_cross_aisle_then_up_the_aisle() -> None:
    assert depot_to(SMALL, PickPoint(1, 3.0)) == 7.0  # 4 across + 3 up


def test_between_aisles_the_shorter_cross_aisle_wins() -> None:
    # via the back: 8 up + 4 across + 1 down = 13; via the front: 2 + 4 + 9 = 15.
    assert SMALL.distance(PickPoint(0, 2.0), PickPoint(1, 9.0)) == 13.0
    # via the front: 1 + 4 + 2 = 7.
    assert SMALL.distance(PickPoint(0, 1.0), PickPoint(1, 2.0)) == 7.0


def test_middle_cross_aisle_is_a_shortcut() -> None:
    two_blocks = Layout.uniform(3, 10.0, 4.0, middle_cross_aisles=[5.0])
    assert two_blocks.distance(PickPoint(0, 6.0), PickPoint(1, 6.0)) == 6.0  # 1 + 4 + 1
    assert SMALL.distance(PickPoint(0, 6.0), PickPoint(1, 6.0)) == 12.0  # 4 + 4 + 4 via back


def test_one_way_aisle_forces_a_detour() -> None:
    one_way = Layout.uniform(
        3, 10.0, 4.0, directions=[Direction.BOTH, Direction.UP, Direction.BOTH]
    )
    assert one_way.distance(PickPoint(1, 3.0), PickPoint(1, 7.0)) == 4.0
    # Down is forbidden: up 3 to the back, 4 across, 10 down aisle 0, 4 across, 3 up.
    assert one_way.distance(PickPoint(1, 7.0), PickPoint(1, 3.0)) == 24.0
    assert depot_to(one_way, PickPoint(1, 7.0)) == 11.0
    assert point_to_depot(one_way, PickPoint(1, 7.0)) == 17.0  # 3 up, 4 across, 10 down


def test_back_cross_aisle_between_aisles_of_different_length() -> None:
    layout = Layout((Aisle(0.0, 10.0), Aisle(4.0, 14.0)))
    # 1 up to the back, 4 across plus 4 for the difference in length, 1 down.
    assert layout.distance(PickPoint(0, 9.0), PickPoint(1, 13.0)) == 10.0


def test_depot_between_aisles() -> None:
    layout = Layout.uniform(3, 10.0, 4.0, depot_x=6.0)
    assert depot_to(layout, PickPoint(1, 2.0)) == 4.0
    assert depot_to(layout, PickPoint(2, 2.0)) == 4.0
    assert depot_to(layout, PickPoint(0, 2.0)) == 8.0


def zoned(zones: bool) -> Layout:
    """Aisles at x = 0, 6, 8, 16; aisle 2 is one-way down; depot at x = 8."""
    xs = [0.0, 6.0, 8.0, 16.0]
    directions = [Direction.BOTH, Direction.BOTH, Direction.DOWN, Direction.BOTH]
    aisles = tuple(Aisle(x, 10.0, d) for x, d in zip(xs, directions, strict=True))
    zone_list = (Zone("A", frozenset({0, 1})), Zone("B", frozenset({2, 3}), 8.0))
    return Layout(aisles, depot_x=8.0, zones=zone_list if zones else ())


def test_zone_boundary_is_not_crossed() -> None:
    target = PickPoint(2, 5.0)
    # Inside zone B the way to the back of aisle 2 is up aisle 3: 8 + 10 + 8 + 5 = 31.
    assert depot_to(zoned(True), target, "B") == 31.0
    # Without zones aisle 1 (zone A) is the short way: 2 + 10 + 2 + 5 = 19.
    assert depot_to(zoned(False), target) == 19.0
    # A route infers zone B from its picks, and comes back down aisle 2 (5 m).
    trip = route(zoned(True), [target])
    assert trip.zone == "B"
    assert trip.distance == 36.0
    assert route(zoned(False), [target]).distance == 24.0


def test_points_outside_the_zone_are_refused() -> None:
    with pytest.raises(LayoutError, match="outside the routed area"):
        zoned(True).network("B").matrix([PickPoint(1, 5.0)])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Layout.uniform(4, 10, 3, zones=[Zone("Z", frozenset({0, 2}))]), "adjacent"),
        (lambda: Layout.uniform(3, 10, 3, directions=[Direction.UP] * 3), "unreachable"),
        (lambda: Layout((Aisle(4, 10), Aisle(0, 10))), "increasing x"),
        (lambda: Layout.uniform(3, 10, 3, middle_cross_aisles=[12.0]), "middle cross-aisles"),
        (
            lambda: Layout.uniform(
                4, 10, 3, zones=[Zone("Z", frozenset({0, 1})), Zone("Y", frozenset({1, 2}))]
            ),
            "overlaps",
        ),
    ],
)
def test_invalid_layouts_are_refused(make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises(LayoutError, match=message):
        make()


def test_y_beyond_the_aisle_is_refused() -> None:
    with pytest.raises(LayoutError, match="outside its aisle"):
        SMALL.distance(PickPoint(0, 1.0), PickPoint(1, 11.0))


def test_matrix_obeys_the_triangle_inequality() -> None:
    layout = random_layout(5, "sparse", middle_cross_aisles=1, one_way=True)
    dist = layout.network().matrix(random_picks(layout, 25, 5))
    through = (dist[:, :, None] + dist[None, :, :]).min(axis=1)
    assert (dist <= through + 1e-9).all()


def test_generators_are_reproducible() -> None:
    assert random_layout(3, "dense") == random_layout(3, "dense")
    assert random_layout(3, "sparse") != random_layout(4, "sparse")
    layout = random_layout(3, "dense")
    picks = random_picks(layout, 40, 9)
    assert picks == random_picks(layout, 40, 9)
    assert len({p.location_id for p in picks}) == 40
    assert all(0 <= p.y <= layout.aisles[p.aisle].length for p in picks)
    zoned_layout = random_layout(3, "sparse", zones=3)
    zone = zoned_layout.zones[1]
    assert all(p.aisle in zone.aisles for p in random_picks(zoned_layout, 20, 1, zone=zone.name))


def test_both_sides_of_a_one_way_aisle_at_the_same_depth_are_zero_apart() -> None:
    one_way = Layout.uniform(
        3, 10.0, 4.0, directions=[Direction.BOTH, Direction.DOWN, Direction.BOTH]
    )
    left, right = PickPoint(1, 5.0, "L"), PickPoint(1, 5.0, "R")
    assert one_way.distance(left, right) == 0.0
    assert one_way.network().walk([None, left, right, None]) == one_way.network().walk(
        [None, left, None]
    )
