"""Routing: textbook baselines by hand, exact methods against brute force, best never worse."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from numpy.typing import NDArray

from picking.layout import Direction, Layout, PickPoint, random_layout, random_picks
from picking.routing import (
    Method,
    RoutingError,
    _apply,
    _descend,
    _held_karp,
    route,
    route_by_zone,
    route_length,
    stop_matrix,
)


def brute_force(dist: NDArray[np.float64]) -> float:
    """Shortest depot-to-depot tour over all stops, by trying every order."""
    n = dist.shape[0] - 1
    if n == 0:
        return 0.0
    perms = np.array(list(itertools.permutations(range(1, n + 1))), dtype=np.intp)
    zeros = np.zeros((len(perms), 1), dtype=np.intp)
    tours = np.concatenate([zeros, perms, zeros], axis=1)
    return float(dist[tours[:, :-1], tours[:, 1:]].sum(axis=1).min())


def at(*pairs: tuple[int, float]) -> list[PickPoint]:
    """Pick points from (aisle, y) pairs."""
    return [PickPoint(a, y, f"L{i}") for i, (a, y) in enumerate(pairs)]


def places(trip_picks: tuple[PickPoint, ...]) -> list[tuple[int, float]]:
    """(aisle, y) of the picks in route order."""
    return [(p.aisle, p.y) for p in trip_picks]


def test_s_shape_by_hand() -> None:
    layout = Layout.uniform(4, 10.0, 4.0)
    picks = at((0, 3.0), (1, 6.0), (3, 2.0))
    trip = route(layout, picks, method="s_shape")
    # Up aisle 0 (10), back 4, down aisle 1 (10), front 8, into aisle 3 and back (2 x 2),
    # front 12 to the depot. From the right it would be 12 + 10 + 8 + 10 + 4 + 6 = 50.
    assert trip.distance == 48.0
    assert places(trip.picks) == [(0, 3.0), (1, 6.0), (3, 2.0)]
    assert trip.method is Method.S_SHAPE


def test_largest_gap_by_hand() -> None:
    layout = Layout.uniform(4, 20.0, 5.0)
    picks = at((0, 10.0), (1, 1.0), (2, 19.0), (3, 10.0))
    # Aisle 0 end to end (20), back 5 + 5, into aisle 2 from the back (2 x 1), back 5, aisle 3
    # end to end (20), front 10 to aisle 1, its pick from the front (2 x 1), front 5 home.
    trip = route(layout, picks, method="largest_gap")
    assert trip.distance == 74.0
    assert places(trip.picks) == [(0, 10.0), (2, 19.0), (3, 10.0), (1, 1.0)]
    # S-shape walks all four aisles end to end: 4 x 20 + 3 x 5 across + 15 home.
    assert route(layout, picks, method="s_shape").distance == 110.0


def test_single_aisle_is_a_return_route() -> None:
    layout = Layout.uniform(3, 30.0, 3.0)
    trip = route(layout, at((1, 4.0), (1, 9.0)), method="largest_gap")
    assert trip.distance == 2 * 3.0 + 2 * 9.0
    assert route(layout, at((1, 4.0), (1, 9.0)), method="s_shape").distance == 24.0


def test_best_route_by_hand() -> None:
    layout = Layout.uniform(4, 10.0, 4.0)
    picks = at((0, 3.0), (1, 6.0), (3, 2.0))
    trip = route(layout, picks)
    # depot -> (0,3) 3 -> (1,6) 3+4+6 -> (3,2) 6+8+2 -> depot 2+12.
    assert trip.distance == 46.0
    assert trip.method is Method.EXACT_DP
    assert trip.candidates[Method.S_SHAPE] == 48.0
    assert trip.candidates[Method.LARGEST_GAP] == 52.0


def test_every_pick_comes_back_once_and_same_places_together() -> None:
    layout = random_layout(2, "dense")
    picks = random_picks(layout, 30, 2, distinct=False)
    picks += [PickPoint(picks[0].aisle, picks[0].y, "other side")]
    trip = route(layout, picks)
    assert sorted(map(repr, trip.picks)) == sorted(map(repr, picks))
    seen: list[tuple[int, float]] = []
    for place in places(trip.picks):
        if not seen or seen[-1] != place:
            assert place not in seen, "a place was visited twice"
            seen.append(place)
    assert route_length(layout, list(trip.picks)) == pytest.approx(trip.distance)


def test_empty_and_single_pick() -> None:
    layout = Layout.uniform(3, 10.0, 4.0)
    assert route(layout, []).distance == 0.0
    assert route(layout, at((2, 5.0))).distance == 26.0  # 8 + 5 there and back


CASES = [
    # (seed, kind, middle cross-aisles, one-way, zones)
    (seed, kind, middle, one_way, zones)
    for seed in range(6)
    for kind in ("sparse", "dense")
    for middle, one_way, zones in ((0, False, 0), (1, False, 0), (0, True, 0), (1, True, 3))
]


@pytest.mark.parametrize(("seed", "kind", "middle", "one_way", "zones"), CASES)
def test_exact_methods_match_brute_force(
    seed: int, kind: str, middle: int, one_way: bool, zones: int
) -> None:
    layout = random_layout(
        seed, "sparse" if kind == "sparse" else "dense", **_opts(middle, one_way, zones)
    )
    rng = random.Random(seed)
    zone = layout.zones[rng.randrange(len(layout.zones))].name if layout.zones else None
    for n in (1, 2, 3, 5, 8):
        picks = random_picks(layout, n, seed * 100 + n, zone=zone)
        optimum = brute_force(stop_matrix(layout, picks, zone))
        exact = Method.HELD_KARP if one_way else Method.EXACT_DP
        assert route(layout, picks, method=exact).distance == pytest.approx(optimum)
        assert route(layout, picks).distance == pytest.approx(optimum)
        if not one_way:  # Held-Karp knows nothing of aisles; it must agree anyway
            assert route(layout, picks, method="held_karp").distance == pytest.approx(optimum)


def _opts(middle: int, one_way: bool, zones: int) -> dict[str, int | bool]:
    return {"middle_cross_aisles": middle, "one_way": one_way, "zones": zones}


def test_exact_dp_matches_held_karp_at_twelve_stops() -> None:
    for seed in range(8):
        layout = random_layout(
            seed, "sparse" if seed % 2 else "dense", middle_cross_aisles=seed % 2
        )
        picks = random_picks(layout, 12, seed)
        dp = route(layout, picks, method="exact_dp").distance
        assert dp == pytest.approx(route(layout, picks, method="held_karp").distance)


@pytest.mark.parametrize("kind", ["sparse", "dense"])
@pytest.mark.parametrize(("middle", "one_way"), [(0, False), (1, False), (0, True), (1, True)])
def test_best_is_never_longer_than_either_baseline(kind: str, middle: int, one_way: bool) -> None:
    for seed in range(12):
        layout = random_layout(
            seed,
            "sparse" if kind == "sparse" else "dense",
            middle_cross_aisles=middle,
            one_way=one_way,
        )
        for n in (4, 13, 40, 90):
            picks = random_picks(layout, n, seed + n)
            trip = route(layout, picks, time_limit_ms=25)
            s_shape = route(layout, picks, method="s_shape").distance
            gap = route(layout, picks, method="largest_gap").distance
            assert trip.distance <= min(s_shape, gap) + 1e-9
            assert trip.candidates[Method.S_SHAPE] == pytest.approx(s_shape)
            assert route_length(layout, list(trip.picks)) == pytest.approx(trip.distance)


def test_exact_dp_beats_the_baselines_somewhere() -> None:
    gains = []
    for seed in range(10):
        layout = random_layout(seed, "sparse")
        picks = random_picks(layout, 10, seed)
        trip = route(layout, picks)
        gains.append(
            min(trip.candidates[Method.S_SHAPE], trip.candidates[Method.LARGEST_GAP])
            / trip.distance
        )
    assert max(gains) > 1.05  # the exact route is strictly shorter on some instances


def test_held_karp_on_an_asymmetric_matrix() -> None:
    rng = np.random.default_rng(4)
    for n in range(1, 8):
        dist = rng.uniform(1, 20, size=(n + 1, n + 1))
        np.fill_diagonal(dist, 0.0)
        order = _held_karp(dist)
        tour = [0, *order, 0]
        assert sorted(order) == list(range(1, n + 1))
        assert sum(dist[a, b] for a, b in itertools.pairwise(tour)) == pytest.approx(
            brute_force(dist)
        )


def tour_cost(dist: NDArray[np.float64], tour: list[int]) -> float:
    return float(sum(dist[a, b] for a, b in itertools.pairwise([*tour, tour[0]])))


def test_local_search_ends_where_no_move_gains() -> None:
    # Asymmetric distances (one-way aisles): the vectorised move prices must be exact, so at
    # the end no 2-opt reversal and no Or-opt move of 1-3 stops may still shorten the tour.
    layout = random_layout(11, "dense", one_way=True)
    dist = stop_matrix(layout, random_picks(layout, 25, 11))
    n = len(dist)
    start = np.array([0, *random.Random(1).sample(range(1, n), n - 1)], dtype=np.intp)
    tour = [int(s) for s in _descend(dist, start, deadline=float("inf"))]
    assert sorted(tour) == list(range(n)) and tour[0] == 0
    best = tour_cost(dist, tour)
    assert best < tour_cost(dist, [int(s) for s in start])
    for i in range(1, n):
        for j in range(i + 1, n):
            moved = [int(s) for s in _apply(np.array(tour), (0, i, j, True))]
            assert tour_cost(dist, moved) >= best - 1e-9
        for length in (1, 2, 3):
            if i + length > n:
                continue
            for edge in range(n):
                if i - 1 <= edge <= i + length - 1:
                    continue
                for reverse in (False, True):
                    moved = [int(s) for s in _apply(np.array(tour), (length, i, edge, reverse))]
                    assert sorted(moved) == list(range(n))
                    assert tour_cost(dist, moved) >= best - 1e-9


def test_routes_stay_in_one_zone() -> None:
    layout = random_layout(1, "sparse", zones=3)
    first, second = layout.zones[0], layout.zones[1]
    picks = [PickPoint(min(first.aisles), 3.0), PickPoint(min(second.aisles), 3.0)]
    with pytest.raises(RoutingError, match="span zones"):
        route(layout, picks)
    with pytest.raises(RoutingError, match="outside the routed area"):
        route(layout, picks, zone=first.name)


def test_exact_dp_refuses_one_way_aisles() -> None:
    layout = Layout.uniform(3, 10, 3, directions=[Direction.BOTH, Direction.UP, Direction.BOTH])
    with pytest.raises(RoutingError, match="two-way"):
        route(layout, at((1, 2.0)), method="exact_dp")
    assert route(layout, at((1, 2.0))).method is Method.HELD_KARP


def test_pick_and_pass_routes_each_zone_inside_it() -> None:
    layout = random_layout(1, "sparse", zones=3)
    picks = random_picks(layout, 30, 1)
    trips = route_by_zone(layout, picks)
    assert list(trips) == [z.name for z in layout.zones if any(p.aisle in z.aisles for p in picks)]
    for name, trip in trips.items():
        zone = layout.zone_named(name)
        share = [p for p in picks if p.aisle in zone.aisles]
        assert sorted(map(repr, trip.picks)) == sorted(map(repr, share))
        assert trip.zone == name
        exact = route(layout, share, method="exact_dp", zone=name)
        assert trip.distance == pytest.approx(exact.distance)
    assert sum(len(t.picks) for t in trips.values()) == len(picks)
    unzoned = Layout.uniform(3, 10, 3)
    with pytest.raises(RoutingError, match="in no zone"):
        route_by_zone(unzoned, at((1, 2.0)))
