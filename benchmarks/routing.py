"""Route length and time of `picking.routing.route` against S-shape, largest gap and the best known.

    python benchmarks/routing.py                      # quick: 5 seeds, OR-Tools 0.5 s references
    python benchmarks/routing.py --seeds 20 --reference-seconds 5   # the long reference run

The best known route is exact wherever an exact method exists: Held-Karp for up to 12 stops, the
Ratliff-Rosenthal dynamic program for two-way layouts of any size. Elsewhere (one-way aisles,
more than 12 stops) it is the best of our route and an OR-Tools guided local search seeded with
it (or, without OR-Tools installed, a long run of our own local search).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picking.layout import Layout, PickPoint, random_layout, random_picks  # noqa: E402
from picking.routing import (  # noqa: E402
    HELD_KARP_LIMIT,
    Method,
    Route,
    route,
    stop_matrix,
)

SCENARIOS: dict[str, dict[str, object]] = {
    "sparse": {"kind": "sparse"},
    "dense": {"kind": "dense"},
    "sparse-2block": {"kind": "sparse", "middle_cross_aisles": 1},
    "sparse-oneway": {"kind": "sparse", "one_way": True},
    "dense-oneway": {"kind": "dense", "one_way": True},
}
COUNTS = (5, 10, 12, 30, 50, 100, 200)


@dataclass
class Row:
    """Figures for one scenario and pick count, over all seeds."""

    scenario: str
    picks: int
    stops: list[int]
    s_shape: list[float]
    largest_gap: list[float]
    best: list[float]
    millis: list[float]
    methods: Counter[str]
    references: Counter[str]


def make_layout(scenario: str, seed: int) -> Layout:
    """The layout of a scenario for one seed."""
    options = dict(SCENARIOS[scenario])
    kind = "dense" if options.pop("kind") == "dense" else "sparse"
    middle = int(str(options.get("middle_cross_aisles", 0)))
    return random_layout(
        seed, kind, middle_cross_aisles=middle, one_way=bool(options.get("one_way"))
    )


def ortools_route(dist: NDArray[np.float64], start: Sequence[int], seconds: float) -> float | None:
    """Guided local search from OR-Tools seeded with `start`; None when it is not installed."""
    try:
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    except ImportError:
        return None
    size = len(dist)
    scaled = np.rint(dist * 100).astype(np.int64).tolist()  # centimetres: integer arcs
    manager = pywrapcp.RoutingIndexManager(size, 1, 0)
    model = pywrapcp.RoutingModel(manager)
    transit = model.RegisterTransitMatrix(scaled)
    model.SetArcCostEvaluatorOfAllVehicles(transit)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    model.CloseModelWithParameters(params)
    initial = model.ReadAssignmentFromRoutes([list(start)], True)
    solution = model.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:
        return None
    order, index = [], model.Start(0)
    while not model.IsEnd(index):
        index = solution.Value(model.NextVar(index))
        if not model.IsEnd(index):
            order.append(manager.IndexToNode(index))
    tour = [0, *order, 0]
    return float(sum(dist[a, b] for a, b in zip(tour, tour[1:], strict=False)))


def stop_order(trip: Route, picks: Sequence[PickPoint]) -> list[int]:
    """The route's stops as indexes into `stop_matrix(picks)`."""
    index: dict[tuple[int, float], int] = {}
    for pick in picks:
        index.setdefault((pick.aisle, pick.y), len(index) + 1)
    return list(dict.fromkeys(index[(p.aisle, p.y)] for p in trip.picks))


def reference(
    layout: Layout, picks: list[PickPoint], best: Route, seconds: float
) -> tuple[float, str]:
    """Length of the best known route and how it was obtained."""
    dist = stop_matrix(layout, picks)
    stops = len(dist) - 1
    if stops <= HELD_KARP_LIMIT:
        return route(layout, picks, method=Method.HELD_KARP).distance, "exact (Held-Karp)"
    network = layout.network()
    if network.two_way and network.level_count <= 3:
        return route(layout, picks, method=Method.EXACT_DP).distance, "exact (DP)"
    found = ortools_route(dist, stop_order(best, picks), seconds)
    if found is not None:
        return min(found, best.distance), f"OR-Tools GLS {seconds:g} s"
    long_run = route(layout, picks, method=Method.LOCAL_SEARCH, time_limit_ms=seconds * 1000)
    return min(long_run.distance, best.distance), f"local search {seconds:g} s"


def run(scenario: str, count: int, seeds: int, seconds: float) -> Row:
    """Route `seeds` instances of one scenario and pick count."""
    row = Row(scenario, count, [], [], [], [], [], Counter(), Counter())
    for seed in range(seeds):
        layout = make_layout(scenario, seed)
        picks = random_picks(layout, count, 1000 * seed + count)
        route(layout, picks[:3])  # warm the layout's cached graph: not part of a route's time
        started = time.perf_counter()
        best = route(layout, picks)
        row.millis.append((time.perf_counter() - started) * 1000)
        ref, how = reference(layout, picks, best, seconds)
        row.stops.append(len(stop_matrix(layout, picks)) - 1)
        row.best.append(best.distance / ref)
        row.s_shape.append(route(layout, picks, method="s_shape").distance / ref)
        row.largest_gap.append(route(layout, picks, method="largest_gap").distance / ref)
        row.methods[best.method.value] += 1
        row.references[how] += 1
        if best.distance > min(best.candidates.values()) + 1e-9:
            raise AssertionError("best route longer than a route it computed")
    return row


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument(
        "--reference-seconds", type=float, default=0.5, help="OR-Tools / local search per instance"
    )
    args = parser.parse_args()
    print(f"{args.seeds} seeds per row; lengths relative to the best known route (1.000 = equal)\n")
    header = (
        "| scenario | picks | stops | S-shape | largest gap | ours (mean) | ours (max) "
        "| ms mean | ms max | our method | reference |"
    )
    print(header)
    print("|---" * 11 + "|")
    worst = 1.0
    for scenario in args.scenarios:
        for count in args.counts:
            row = run(scenario, count, args.seeds, args.reference_seconds)
            worst = max(worst, max(row.best))
            methods = ", ".join(m for m, _ in row.methods.most_common())
            refs = ", ".join(r for r, _ in row.references.most_common())
            print(
                f"| {scenario} | {count} | {statistics.mean(row.stops):.1f} "
                f"| {statistics.mean(row.s_shape):.3f} | {statistics.mean(row.largest_gap):.3f} "
                f"| {statistics.mean(row.best):.3f} | {max(row.best):.3f} "
                f"| {statistics.mean(row.millis):.1f} | {max(row.millis):.1f} "
                f"| {methods} | {refs} |",
                flush=True,
            )
    print(f"\nworst ours / best known over all instances: {worst:.3f}")


if __name__ == "__main__":
    main()
