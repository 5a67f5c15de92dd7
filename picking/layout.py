"""Warehouse layout for pick-path routing: parallel aisles, cross-aisles, one-way aisles, zones.

The model is the one of the routing literature (Ratliff & Rosenthal 1983; Roodbergen & de Koster
2001): parallel aisles at given x positions, a front cross-aisle at y=0, a back cross-aisle at the
back end of every aisle, optionally middle cross-aisles at the same y in every aisle (multi-block).
Walking is along aisles and cross-aisles only; the width of an aisle is ignored, so a location on
either side of an aisle at depth y is the point (aisle, y). The depot (where a route starts and
ends) is a point on the front cross-aisle.

All distances are shortest walks on that graph. The junctions (where an aisle meets a cross-aisle)
are few, so their all-pairs distances are precomputed once per layout and zone; the distance
between two pick points is then the best exit from the first point's sub-aisle to a junction,
junction-to-junction distance, and entry into the second point's sub-aisle, or the straight walk
when both lie in the same sub-aisle.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
from numpy.typing import NDArray

INF = float("inf")


class LayoutError(ValueError):
    """A layout, zone or pick point that cannot be routed."""


class Direction(StrEnum):
    """Which way pickers may walk along an aisle."""

    BOTH = "both"
    UP = "up"  # from the front cross-aisle (y=0) towards the back only
    DOWN = "down"  # from the back towards the front only


@dataclass(frozen=True)
class Aisle:
    """One aisle: its x position, its length in metres and its walking direction."""

    x: float
    length: float
    direction: Direction = Direction.BOTH


@dataclass(frozen=True)
class Zone:
    """A set of adjacent aisles that a route must not leave, with its own start point."""

    name: str
    aisles: frozenset[int]
    # Where the zone's routes start and end on the front cross-aisle; default: its first aisle.
    depot_x: float | None = None


@dataclass(frozen=True)
class PickPoint:
    """A place to pick from: aisle index, depth y from the front, and the location it stands for."""

    aisle: int
    y: float
    location_id: str = ""


@dataclass(frozen=True)
class Layout:
    """Parallel aisles with front and back cross-aisles, optional middle ones, a depot and zones."""

    aisles: tuple[Aisle, ...]
    depot_x: float | None = None  # None: at the front of aisle 0
    middle_cross_aisles: tuple[float, ...] = ()
    zones: tuple[Zone, ...] = ()

    def __post_init__(self) -> None:
        if not self.aisles:
            raise LayoutError("a layout needs at least one aisle")
        xs = [a.x for a in self.aisles]
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise LayoutError("aisles must be listed by strictly increasing x")
        if any(a.length <= 0 for a in self.aisles):
            raise LayoutError("every aisle needs a positive length")
        shortest = min(a.length for a in self.aisles)
        middles = self.middle_cross_aisles
        if any(b <= a for a, b in zip(middles, middles[1:], strict=False)) or any(
            not 0 < y < shortest for y in middles
        ):
            raise LayoutError("middle cross-aisles must be increasing and inside every aisle")
        names: set[str] = set()
        taken: set[int] = set()
        for zone in self.zones:
            if zone.name in names:
                raise LayoutError(f"zone {zone.name!r} is defined twice")
            names.add(zone.name)
            members = sorted(zone.aisles)
            if not members or members[0] < 0 or members[-1] >= len(self.aisles):
                raise LayoutError(f"zone {zone.name!r} names aisles that do not exist")
            # A zone is walked on its own aisles and the cross-aisle pieces between them, so
            # its aisles must be adjacent or the zone would fall apart in two.
            if members != list(range(members[0], members[-1] + 1)):
                raise LayoutError(f"zone {zone.name!r} must be a run of adjacent aisles")
            if taken & zone.aisles:
                raise LayoutError(f"zone {zone.name!r} overlaps another zone")
            taken |= zone.aisles
            if zone.depot_x is not None and not (
                self.aisles[members[0]].x <= zone.depot_x <= self.aisles[members[-1]].x
            ):
                raise LayoutError(f"the start point of zone {zone.name!r} lies outside it")
        # Building the graph now reports unreachable junctions (one-way aisles) at once.
        for zone_name in [None, *names]:
            _build_network(self, zone_name)

    @classmethod
    def uniform(
        cls,
        aisle_count: int,
        length: float,
        spacing: float,
        *,
        depot_x: float | None = None,
        middle_cross_aisles: Sequence[float] = (),
        directions: Sequence[Direction] | None = None,
        zones: Sequence[Zone] = (),
    ) -> Layout:
        """Equal aisles `spacing` metres apart, aisle 0 at x=0."""
        dirs = list(directions) if directions is not None else [Direction.BOTH] * aisle_count
        if len(dirs) != aisle_count:
            raise LayoutError("give one direction per aisle")
        aisles = tuple(Aisle(i * spacing, length, d) for i, d in enumerate(dirs))
        return cls(aisles, depot_x, tuple(middle_cross_aisles), tuple(zones))

    @property
    def start_x(self) -> float:
        """x of the depot on the front cross-aisle."""
        return self.aisles[0].x if self.depot_x is None else self.depot_x

    @property
    def one_way(self) -> bool:
        """True when any aisle may be walked in one direction only."""
        return any(a.direction is not Direction.BOTH for a in self.aisles)

    def zone_named(self, name: str) -> Zone:
        """The zone with that name."""
        for zone in self.zones:
            if zone.name == name:
                return zone
        raise LayoutError(f"no zone named {name!r}")

    def zone_of(self, aisle: int) -> Zone | None:
        """The zone an aisle belongs to, if any."""
        return next((z for z in self.zones if aisle in z.aisles), None)

    def network(self, zone: str | None = None) -> Network:
        """The walkable graph of the whole layout or of one zone (cached)."""
        return _build_network(self, zone)

    def distance(self, a: PickPoint, b: PickPoint, zone: str | None = None) -> float:
        """Shortest walk from a to b in metres, respecting one-way aisles and the zone."""
        return float(self.network(zone).matrix([a, b])[1, 2])


@dataclass(frozen=True)
class Column:
    """A vertical line of the graph: an aisle, or the depot's place on the cross-aisles."""

    x: float
    length: float
    aisle: int | None  # None: the depot stands between aisles, nothing can be walked here
    direction: Direction


@dataclass(frozen=True)
class Located:
    """Where a pick point lies in a network: column, sub-aisle (block) and depth within it."""

    column: int
    block: int
    offset: float


@dataclass(eq=False)
class Network:
    """The graph of one layout or zone: columns, cross-aisle levels, junction distances."""

    layout: Layout
    columns: tuple[Column, ...]
    level_count: int  # cross-aisles: front, middle ones, back
    middle_levels: tuple[float, ...]
    depot_column: int
    column_of_aisle: dict[int, int]
    horizontal: list[list[float]]  # horizontal[j][k]: column j to j+1 along cross-aisle k
    junctions: NDArray[np.float64] = field(repr=False)  # all-pairs junction distances

    @property
    def two_way(self) -> bool:
        """True when every aisle of the network may be walked both ways."""
        return all(c.direction is Direction.BOTH for c in self.columns)

    def level_y(self, column: int, level: int) -> float:
        """Depth of cross-aisle `level` in a column."""
        if level == self.level_count - 1:
            return self.columns[column].length
        return 0.0 if level == 0 else self.middle_levels[level - 1]

    def block_length(self, column: int, block: int) -> float:
        """Length of the aisle piece between cross-aisles `block` and `block + 1`."""
        return self.level_y(column, block + 1) - self.level_y(column, block)

    def junction(self, column: int, level: int) -> int:
        """Index of a junction in the junction distance matrix."""
        return column * self.level_count + level

    def locate(self, point: PickPoint) -> Located:
        """Column, block and offset of a pick point; LayoutError if it is not in this network."""
        column = self.column_of_aisle.get(point.aisle)
        if column is None:
            raise LayoutError(
                f"location {point.location_id or point.aisle!r} (aisle {point.aisle}) "
                "is outside the routed area"
            )
        length = self.columns[column].length
        if not 0 <= point.y <= length:
            raise LayoutError(f"location {point.location_id!r}: y={point.y} outside its aisle")
        block = 0
        while block < self.level_count - 2 and point.y >= self.level_y(column, block + 1):
            block += 1
        return Located(column, block, point.y - self.level_y(column, block))

    def matrix(self, points: Sequence[PickPoint]) -> NDArray[np.float64]:
        """Shortest-walk distances between the depot (index 0) and the points (1..n)."""
        ends = self._ends([None, *points])
        via = (
            ends.exit_cost[:, :, None, None]
            + self.junctions[ends.exit_junction[:, :, None, None], ends.entry_junction[None, None]]
            + ends.entry_cost[None, None, :, :]
        )
        dist: NDArray[np.float64] = via.min(axis=(1, 3))
        # Within one sub-aisle the straight walk wins whenever the direction allows it.
        same = (ends.block[:, None] == ends.block[None, :]) & (ends.block[:, None] >= 0)
        dy = ends.offset[None, :] - ends.offset[:, None]
        up, down = ends.up[:, None], ends.down[:, None]
        straight = np.where(dy > 0, np.where(up, dy, INF), np.where(down | (dy == 0), -dy, INF))
        dist = np.where(same, np.minimum(dist, straight), dist)
        np.fill_diagonal(dist, 0.0)
        return dist

    def walk(self, waypoints: Sequence[PickPoint | None]) -> float:
        """Length of walking through the waypoints in order (None is the depot)."""
        return self.walks([waypoints])[0]

    def walks(self, routes: Sequence[Sequence[PickPoint | None]]) -> list[float]:
        """Lengths of several waypoint walks, priced together (one numpy pass for all)."""
        points = [p for waypoints in routes for p in waypoints]
        if len(points) < 2:
            return [0.0] * len(routes)
        ends = self._ends(points)
        a, b = np.arange(len(points) - 1), np.arange(1, len(points))
        via = (
            ends.exit_cost[a, :, None]
            + self.junctions[ends.exit_junction[a, :, None], ends.entry_junction[b, None, :]]
            + ends.entry_cost[b, None, :]
        ).min(axis=(1, 2))
        dy = ends.offset[b] - ends.offset[a]
        up, down = ends.up[a], ends.down[a]
        straight = np.where(dy > 0, np.where(up, dy, INF), np.where(down | (dy == 0), -dy, INF))
        same = (ends.block[a] == ends.block[b]) & (ends.block[a] >= 0)
        legs = np.where(same, np.minimum(via, straight), via)
        legs = np.where((ends.block[a] < 0) & (ends.block[b] < 0), 0.0, legs)  # depot to depot
        totals: list[float] = []
        start = 0
        for waypoints in routes:  # the leg joining two walks is not part of either
            stop = start + len(waypoints) - 1
            totals.append(float(legs[start:stop].sum()) if stop > start else 0.0)
            start = stop + 1
        return totals

    def _ends(self, points: Sequence[PickPoint | None]) -> _Ends:
        """How each point (None: the depot) is left for and reached from the junctions."""
        depot = self.junction(self.depot_column, 0)
        # Built as lists and converted once: per-element numpy writes cost more than the math.
        junction: list[tuple[int, int]] = []
        exit_cost: list[tuple[float, float]] = []
        entry_cost: list[tuple[float, float]] = []
        block: list[int] = []
        offset: list[float] = []
        up: list[bool] = []
        down: list[bool] = []
        levels = self.level_count
        for point in points:
            if point is None:
                junction.append((depot, depot))
                exit_cost.append((0.0, INF))
                entry_cost.append((0.0, INF))
                block.append(-1)
                offset.append(0.0)
                up.append(False)
                down.append(False)
                continue
            at = self.locate(point)
            direction = self.columns[at.column].direction
            can_up = direction is not Direction.DOWN
            can_down = direction is not Direction.UP
            low = at.column * levels + at.block
            rest = self.block_length(at.column, at.block) - at.offset
            junction.append((low, low + 1))
            exit_cost.append((at.offset if can_down else INF, rest if can_up else INF))
            entry_cost.append((at.offset if can_up else INF, rest if can_down else INF))
            block.append(low)
            offset.append(at.offset)
            up.append(can_up)
            down.append(can_down)
        junctions = np.array(junction, dtype=np.intp).reshape(-1, 2)
        return _Ends(
            exit_junction=junctions,
            exit_cost=np.array(exit_cost).reshape(-1, 2),
            entry_junction=junctions,
            entry_cost=np.array(entry_cost).reshape(-1, 2),
            block=np.array(block, dtype=np.intp),
            offset=np.array(offset),
            up=np.array(up, dtype=bool),
            down=np.array(down, dtype=bool),
        )


@dataclass
class _Ends:
    """Per point: the two junctions it is left for / reached from and at what cost."""

    exit_junction: NDArray[np.intp]
    exit_cost: NDArray[np.float64]
    entry_junction: NDArray[np.intp]
    entry_cost: NDArray[np.float64]
    block: NDArray[np.intp]  # junction below the point's aisle piece; -1 for the depot
    offset: NDArray[np.float64]
    up: NDArray[np.bool_]
    down: NDArray[np.bool_]


@functools.lru_cache(maxsize=64)
def _build_network(layout: Layout, zone_name: str | None) -> Network:
    """Columns, cross-aisle costs and junction distances for a layout or one of its zones."""
    if zone_name is None:
        indices = list(range(len(layout.aisles)))
        depot_x = layout.start_x
    else:
        zone = layout.zone_named(zone_name)
        indices = sorted(zone.aisles)
        depot_x = layout.aisles[indices[0]].x if zone.depot_x is None else zone.depot_x
    columns = [
        Column(layout.aisles[i].x, layout.aisles[i].length, i, layout.aisles[i].direction)
        for i in indices
    ]
    depot_column = next((j for j, c in enumerate(columns) if c.x == depot_x), -1)
    if depot_column < 0:
        # The depot stands between aisles (or beyond the outer ones): it gets a column of its
        # own that only the cross-aisles pass through. Its "length" is interpolated so that the
        # back cross-aisle pieces on either side still add up to the piece they split.
        depot_column = sum(1 for c in columns if c.x < depot_x)
        left = columns[depot_column - 1] if depot_column > 0 else None
        right = columns[depot_column] if depot_column < len(columns) else None
        if left is not None and right is not None:
            share = (depot_x - left.x) / (right.x - left.x)
            length = left.length + share * (right.length - left.length)
        else:
            length = (left or right or columns[0]).length
        columns.insert(depot_column, Column(depot_x, length, None, Direction.BOTH))
    levels = len(layout.middle_cross_aisles) + 2
    horizontal = []
    for a, b in zip(columns, columns[1:], strict=False):
        dx = b.x - a.x
        # A back cross-aisle between aisles of different lengths also covers the difference.
        horizontal.append([dx] * (levels - 1) + [dx + abs(b.length - a.length)])
    network = Network(
        layout=layout,
        columns=tuple(columns),
        level_count=levels,
        middle_levels=layout.middle_cross_aisles,
        depot_column=depot_column,
        column_of_aisle={c.aisle: j for j, c in enumerate(columns) if c.aisle is not None},
        horizontal=horizontal,
        junctions=np.zeros((0, 0)),
    )
    size = len(columns) * levels
    dist = np.full((size, size), INF)
    np.fill_diagonal(dist, 0.0)
    for j, column in enumerate(columns):
        for k in range(levels):
            here = network.junction(j, k)
            if j + 1 < len(columns):
                there = network.junction(j + 1, k)
                dist[here, there] = dist[there, here] = horizontal[j][k]
            if k + 1 < levels and column.aisle is not None:
                above = network.junction(j, k + 1)
                length = network.block_length(j, k)
                if column.direction is not Direction.DOWN:
                    dist[here, above] = length
                if column.direction is not Direction.UP:
                    dist[above, here] = length
    for k in range(size):  # Floyd-Warshall; a few hundred junctions at most
        np.minimum(dist, dist[:, k : k + 1] + dist[k : k + 1, :], out=dist)
    if np.isinf(dist).any():
        where = "zone " + repr(zone_name) if zone_name else "the layout"
        raise LayoutError(f"one-way aisles leave parts of {where} unreachable")
    network.junctions = dist
    return network


LayoutKind = Literal["sparse", "dense"]


def random_layout(
    seed: int,
    kind: LayoutKind = "sparse",
    *,
    middle_cross_aisles: int = 0,
    one_way: bool = False,
    zones: int = 0,
) -> Layout:
    """A reproducible layout: "sparse" is many long aisles, "dense" few short ones."""
    rng = random.Random(seed)
    if kind == "sparse":
        count, length = rng.randint(16, 24), float(rng.choice([30, 40, 50]))
    else:
        count, length = rng.randint(6, 10), float(rng.choice([15, 20, 25]))
    spacing = rng.choice([2.5, 3.0, 3.5])
    parts = middle_cross_aisles + 1
    middles = [round(length * (i + 1) / parts) for i in range(middle_cross_aisles)]
    bounds = [0, count]
    if zones:
        bounds = [0, *sorted(rng.sample(range(2, count - 1), zones - 1)), count]
    zone_list = [
        Zone(f"Z{z + 1}", frozenset(range(lo, hi)))
        for z, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]
    directions = None
    if one_way:
        # Alternate directions, as one-way systems are laid out; a few stay two-way, and so do
        # the outer aisles of every zone so that every junction stays reachable.
        choices = [Direction.UP, Direction.DOWN]
        directions = [
            Direction.BOTH if rng.random() < 0.2 else choices[i % 2] for i in range(count)
        ]
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            directions[lo] = directions[hi - 1] = Direction.BOTH
    depot_x = 0.0 if rng.random() < 0.7 else round(rng.uniform(0, (count - 1) * spacing), 1)
    return Layout.uniform(
        count,
        length,
        spacing,
        depot_x=depot_x,
        middle_cross_aisles=middles,
        directions=directions,
        zones=zone_list if zones else (),
    )


def random_picks(
    layout: Layout,
    count: int,
    seed: int,
    *,
    zone: str | None = None,
    distinct: bool = True,
) -> list[PickPoint]:
    """Reproducible pick points on 1 m bays on either side of the aisles (of one zone)."""
    rng = random.Random(seed)
    aisles = sorted(layout.zone_named(zone).aisles) if zone else range(len(layout.aisles))
    slots = [
        (a, bay, side)
        for a in aisles
        for bay in range(int(layout.aisles[a].length))
        for side in "LR"
    ]
    chosen = rng.sample(slots, min(count, len(slots))) if distinct else rng.choices(slots, k=count)
    return [PickPoint(a, bay + 0.5, f"A{a:02d}-{bay:03d}{side}") for a, bay, side in chosen]
