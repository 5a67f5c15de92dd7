"""Pick-path routing: S-shape and largest-gap baselines, exact methods and local search.

`route()` orders the pick points of one trip (a batch, a pick task, a zone's share of a tote) so
that the walk from the depot through all of them and back is short. Every length is measured on
the layout's real graph, one-way aisles and zone limits included: the two baselines by their own
textbook walk (legs against a one-way aisle become the shortest legal detour), every other
method by the shortest walks between consecutive stops, which is what a picker guided stop by
stop walks. `method="best"` keeps the shortest of all the routes it computed, so it is never
longer than S-shape or largest gap.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from picking.layout import INF, Direction, Layout, LayoutError, Located, Network, PickPoint

HELD_KARP_LIMIT = 12  # stops; 2^12 subsets x 12 x 12 transitions: about 10 ms with numpy
HELD_KARP_MAX = 16  # when asked for explicitly
DP_MAX_LEVELS = 3  # cross-aisles (front, one middle, back); more grows the state space fast
DEFAULT_TIME_LIMIT_MS = 150.0
LOCAL_SEARCH_PATIENCE = 300  # perturbations without improvement before giving up
LOCAL_SEARCH_PATIENCE_PER_STOP = 5
OR_OPT_LENGTHS = (1, 2, 3)
PIECE_HELD_KARP_LIMIT = 10  # aisle pieces; beyond, the exact seed costs more than it saves
LOCAL_SEARCH_STARTS = 2  # best seeds each taken to a local optimum before perturbing


class RoutingError(ValueError):
    """Picks that cannot be routed as asked (spanning zones, method not applicable)."""


class Method(StrEnum):
    """A routing method; BEST runs the fitting ones and keeps the shortest route."""

    BEST = "best"
    S_SHAPE = "s_shape"
    LARGEST_GAP = "largest_gap"
    EXACT_DP = "exact_dp"
    HELD_KARP = "held_karp"
    LOCAL_SEARCH = "local_search"


@dataclass(frozen=True)
class Route:
    """Picks in walking order, the walk's length (depot to depot) and the method behind it."""

    picks: tuple[PickPoint, ...]
    distance: float
    method: Method
    zone: str | None = None
    # Length of every route computed on the way, by method (the chosen one included).
    candidates: Mapping[Method, float] = field(default_factory=dict)


@dataclass
class _Problem:
    """One routing task: distinct stops (0 is the depot) and their distance matrix."""

    network: Network
    groups: list[list[PickPoint]]  # groups[s - 1]: the input picks at stop s
    located: list[Located]  # located[s - 1]
    dist: NDArray[np.float64]

    @property
    def size(self) -> int:
        return len(self.groups)

    def cost(self, order: Sequence[int]) -> float:
        """Length of depot -> order -> depot."""
        tour = np.fromiter(itertools.chain((0,), order, (0,)), dtype=np.intp)
        return float(self.dist[tour[:-1], tour[1:]].sum())


def route(
    layout: Layout,
    picks: Sequence[PickPoint],
    *,
    method: Method | str = Method.BEST,
    zone: str | None = None,
    time_limit_ms: float = DEFAULT_TIME_LIMIT_MS,
    seed: int = 0,
    baselines: bool = True,
) -> Route:
    """Order `picks` into a short depot-to-depot walk on `layout` (or inside one zone).

    With zones configured, a route stays inside one zone: `zone` names it, or it is the zone
    holding every pick. `time_limit_ms` bounds the local search (used only for one-way layouts
    with more than 12 stops, or when asked for). Picks at the same aisle and depth are one stop
    and come out next to each other. `baselines=False` skips the S-shape and largest-gap routes
    when an exact method decides anyway (they cannot be shorter); batching uses it for speed.
    """
    method = Method(method)
    zone = _resolve_zone(layout, picks, zone)
    problem = _problem(layout.network(zone), picks)
    if problem.size == 0:
        return Route((), 0.0, method, zone, {method: 0.0})
    deadline = time.perf_counter() + time_limit_ms / 1000.0
    network = problem.network
    dp_fits = network.level_count <= DP_MAX_LEVELS
    orders: dict[Method, list[int]] = {}
    # Baselines are priced by their own walk; the other methods by the shortest walk between
    # consecutive stops, which is what a picker guided from stop to stop does.
    lengths: dict[Method, float] = {}
    exact = (network.two_way and dp_fits) or problem.size <= HELD_KARP_LIMIT
    compare = method is Method.BEST and (baselines or not exact)
    if compare or method is Method.S_SHAPE:
        orders[Method.S_SHAPE], lengths[Method.S_SHAPE] = _s_shape(problem)
    if compare or method is Method.LARGEST_GAP:
        orders[Method.LARGEST_GAP], lengths[Method.LARGEST_GAP] = _largest_gap(problem)
    if method is Method.EXACT_DP or (method is Method.BEST and network.two_way and dp_fits):
        if not (network.two_way and dp_fits):
            raise RoutingError(
                "the exact dynamic program needs two-way aisles and at most one middle cross-aisle"
            )
        orders[Method.EXACT_DP] = _dp_order(problem)
    elif method is Method.HELD_KARP or (method is Method.BEST and problem.size <= HELD_KARP_LIMIT):
        if problem.size > HELD_KARP_MAX:
            raise RoutingError(f"Held-Karp is limited to {HELD_KARP_MAX} stops")
        orders[Method.HELD_KARP] = _held_karp(problem.dist)
    elif method in (Method.BEST, Method.LOCAL_SEARCH):
        seeds = [orders.get(Method.S_SHAPE) or _s_shape(problem)[0]]
        seeds.append(orders.get(Method.LARGEST_GAP) or _largest_gap(problem)[0])
        if dp_fits:
            # The exact route of the two-way relaxation is a strong start, walked either way
            # round (with one-way aisles the two differ), each aisle's stops in its direction.
            relaxed = _dp_order(problem)
            seeds += [relaxed, relaxed[::-1]]
        seeds += [_along_directions(problem, s) for s in seeds]
        variants = _piece_variants(problem)
        if len({g for g, _ in variants}) <= PIECE_HELD_KARP_LIMIT:
            # Exact among tours that walk each aisle piece in one go: usually near-optimal
            # with one-way aisles, and the local search can still split pieces after it.
            seeds.append(_held_karp_groups(problem.dist, variants))
        starts = sorted(seeds, key=problem.cost)[:LOCAL_SEARCH_STARTS]
        orders[Method.LOCAL_SEARCH] = _local_search(problem.dist, starts, deadline, seed)
    candidates = {m: lengths[m] if m in lengths else problem.cost(o) for m, o in orders.items()}
    # On a tie the later (stronger) method is named: its length is the stop-to-stop walk.
    chosen = min(candidates, key=lambda m: (candidates[m], -list(orders).index(m)))
    ordered = tuple(p for s in orders[chosen] for p in problem.groups[s - 1])
    return Route(ordered, candidates[chosen], chosen, zone, candidates)


def route_by_zone(
    layout: Layout,
    picks: Sequence[PickPoint],
    *,
    method: Method | str = Method.BEST,
    time_limit_ms: float = DEFAULT_TIME_LIMIT_MS,
) -> dict[str, Route]:
    """Pick-and-pass: each zone's share of the picks routed inside that zone, by zone name."""
    shares: dict[str, list[PickPoint]] = {}
    for pick in picks:
        zone = layout.zone_of(pick.aisle)
        if zone is None:
            raise RoutingError(f"location {pick.location_id or pick.aisle!r} is in no zone")
        shares.setdefault(zone.name, []).append(pick)
    return {
        name: route(layout, share, method=method, zone=name, time_limit_ms=time_limit_ms)
        for name, share in sorted(
            shares.items(), key=lambda item: min(layout.zone_named(item[0]).aisles)
        )
    }


def route_length(
    layout: Layout, picks_in_order: Sequence[PickPoint], zone: str | None = None
) -> float:
    """Length of walking the picks in the given order, depot to depot, on the real graph."""
    dist = layout.network(zone).matrix(picks_in_order)
    tour = [0, *range(1, len(picks_in_order) + 1), 0]
    return float(sum(dist[a, b] for a, b in itertools.pairwise(tour)))


def _resolve_zone(layout: Layout, picks: Sequence[PickPoint], zone: str | None) -> str | None:
    if zone is not None:
        layout.zone_named(zone)
        return zone
    if not layout.zones or not picks:
        return None
    zones = {layout.zone_of(p.aisle) for p in picks}
    if len(zones) == 1 and None not in zones:
        return next(z.name for z in zones if z is not None)
    names = sorted(z.name if z else "(no zone)" for z in zones)
    raise RoutingError(f"picks span zones {', '.join(names)}: route each zone's share apart")


def _problem(network: Network, picks: Sequence[PickPoint]) -> _Problem:
    by_place: dict[tuple[int, float], list[PickPoint]] = {}
    for pick in picks:
        by_place.setdefault((pick.aisle, pick.y), []).append(pick)
    groups = list(by_place.values())
    try:
        located = [network.locate(g[0]) for g in groups]
    except LayoutError as exc:
        raise RoutingError(str(exc)) from exc
    return _Problem(network, groups, located, network.matrix([g[0] for g in groups]))


# --- Baselines -------------------------------------------------------------------------------


def _stops_by_column(problem: _Problem) -> dict[int, list[int]]:
    """Stops grouped by column, each list by increasing depth along the whole aisle."""
    columns: dict[int, list[int]] = {}
    for s, at in enumerate(problem.located, start=1):
        columns.setdefault(at.column, []).append(s)
    for stops in columns.values():
        stops.sort(key=lambda s: problem.groups[s - 1][0].y)
    return dict(sorted(columns.items()))


def _s_shape(problem: _Problem) -> tuple[list[int], float]:
    """S-shape (traversal) route: stops in order and the length of the S-shape walk.

    Roodbergen & de Koster (2001): every aisle holding picks is walked end to end, alternating
    up and down; the last one is entered and left from the front when the picker arrives there
    at the front; aisles without picks are not entered. Sweeps from the left and from the right
    are both tried. One-way aisles are walked in their direction (the walk between two aisles
    then takes the shortest legal way). On multi-block layouts an aisle is walked from the front
    to the back cross-aisle, as in a single block.
    """
    network = problem.network
    columns = _stops_by_column(problem)
    tried: list[tuple[list[int], list[PickPoint | None]]] = []
    for sweep in (list(columns), list(reversed(columns))):
        order: list[int] = []
        waypoints: list[PickPoint | None] = [None]
        at_front = True
        for i, column in enumerate(sweep):
            front, back = _ends_of(problem, column)
            stops = columns[column]
            direction = network.columns[column].direction
            if i == len(sweep) - 1 and at_front and direction is Direction.BOTH:
                sequence, entry, leave = stops, front, front
            else:
                up = direction is Direction.UP or (direction is Direction.BOTH and at_front)
                sequence = stops if up else stops[::-1]
                entry, leave = (front, back) if up else (back, front)
                at_front = not up
            order.extend(sequence)
            waypoints.extend([entry, *(problem.groups[s - 1][0] for s in sequence), leave])
        waypoints.append(None)
        tried.append((order, waypoints))
    lengths = network.walks([waypoints for _, waypoints in tried])
    return min(zip((order for order, _ in tried), lengths, strict=True), key=lambda t: t[1])


def _largest_gap(problem: _Problem) -> tuple[list[int], float]:
    """Largest-gap route: stops in order and the length of the largest-gap walk.

    As defined by Hall (1993) and Roodbergen & de Koster (2001): the first and last aisles
    holding picks are walked end to end; every aisle between them is entered from the back for
    the picks beyond its largest gap and from the front for those before it, so the largest gap
    (front to first pick, between two picks, or last pick to back) is never walked. With a single
    aisle the picker goes in from the front and back out. Both sweep directions are tried. The
    policy walks aisles both ways, so on one-way layouts the order is kept and walked by the
    shortest legal way between stops (repaired).
    """
    network = problem.network
    columns = _stops_by_column(problem)
    point = [PickPoint(0, 0.0)] + [g[0] for g in problem.groups]
    tried: list[tuple[list[int], list[PickPoint | None]]] = []
    for sweep in (list(columns), list(reversed(columns))):
        first_front, first_back = _ends_of(problem, sweep[0])
        order = list(columns[sweep[0]])
        waypoints: list[PickPoint | None] = [None, first_front, *(point[s] for s in order)]
        if len(sweep) == 1:
            waypoints.append(first_front)
        else:
            waypoints.append(first_back)
            fronts: list[tuple[PickPoint, list[int]]] = []
            for column in sweep[1:-1]:
                front, back = _ends_of(problem, column)
                stops = columns[column]
                ys = [point[s].y for s in stops]
                gaps = [ys[0], *(b - a for a, b in itertools.pairwise(ys)), back.y - ys[-1]]
                split = max(range(len(gaps)), key=gaps.__getitem__)  # stops[:split] from front
                if split < len(stops):
                    from_back = stops[split:][::-1]
                    order.extend(from_back)
                    waypoints.extend([back, *(point[s] for s in from_back), back])
                fronts.append((front, stops[:split]))
            last_front, last_back = _ends_of(problem, sweep[-1])
            last = columns[sweep[-1]][::-1]
            order.extend(last)
            waypoints.extend([last_back, *(point[s] for s in last), last_front])
            for front, stops in reversed(fronts):
                if stops:
                    order.extend(stops)
                    waypoints.extend([front, *(point[s] for s in stops), front])
        waypoints.append(None)
        tried.append((order, waypoints))
    if network.two_way:
        lengths = network.walks([waypoints for _, waypoints in tried])
    else:
        lengths = [problem.cost(order) for order, _ in tried]
    return min(zip((order for order, _ in tried), lengths, strict=True), key=lambda t: t[1])


def _ends_of(problem: _Problem, column: int) -> tuple[PickPoint, PickPoint]:
    """The front and back ends of an aisle, as points."""
    c = problem.network.columns[column]
    assert c.aisle is not None  # stops are never in the depot's own column
    return PickPoint(c.aisle, 0.0), PickPoint(c.aisle, c.length)


# --- Exact dynamic program (Ratliff & Rosenthal 1983, generalised over cross-aisles) ---------
#
# The tour is built column by column (aisle by aisle, left to right) as a multigraph: every
# cross-aisle piece and every aisle piece is walked 0, 1 or 2 times. A state describes the
# frontier, the junctions of the current column: the parity of each junction's degree (0 =
# untouched, 1 = odd, 2 = even and non-zero) and which junctions the partial tour already
# connects. An aisle piece with picks is walked in one of five ways: once or twice end to end,
# from its lower or its upper end up to the farthest pick and back, or from both ends leaving the
# largest gap between two picks unwalked. A state whose components all leave the frontier is a
# finished tour, allowed only if nothing is left to pick. With two cross-aisles this is exactly
# Ratliff & Rosenthal's seven equivalence classes; with a middle cross-aisle it is the
# multi-block generalisation of Roodbergen & de Koster (2001). The winning multigraph is walked
# as an Euler circuit from the depot, and the stops come in the order first met.

_NONE, _PASS1, _PASS2, _LOWER, _UPPER, _GAP = range(6)

_State = tuple[tuple[int, ...], tuple[int, ...], bool]  # degree classes, components, finished


def _add_degree(degree: int, times: int) -> int:
    if times == 0:
        return degree
    odd = ((1 if degree == 1 else 0) + times) % 2
    return 1 if odd else 2


def _canonical(degrees: list[int], labels: list[int], finished: bool) -> _State:
    mapping: dict[int, int] = {}
    canon = tuple(-1 if lab < 0 else mapping.setdefault(lab, len(mapping)) for lab in labels)
    return tuple(degrees), canon, finished


class _Transitions:
    """State numbering and memoised transitions for one number of cross-aisles."""

    def __init__(self, levels: int) -> None:
        self.levels = levels
        self.states: list[_State] = []
        self.ids: dict[_State, int] = {}
        # rows[horizontal][state]: option -> next state, filled as options are first met.
        self.rows: tuple[list[dict[tuple[int, ...], int]], ...] = ([], [])
        self.lock = threading.Lock()
        self.start = self._id(_canonical([0] * levels, [-1] * levels, False))

    def _id(self, state: _State | None) -> int:
        if state is None:
            return -1
        found = self.ids.get(state)
        if found is None:
            found = self.ids[state] = len(self.states)
            self.states.append(state)
            for rows in self.rows:
                rows.append({})
        return found

    def row(self, state: int, horizontal: bool) -> dict[tuple[int, ...], int]:
        """Known transitions out of a state (a plain dict, for the DP's inner loop)."""
        return self.rows[horizontal][state]

    def step(self, state: int, horizontal: bool, option: tuple[int, ...]) -> int:
        """Next state after walking cross-aisle pieces (horizontal) or aisle pieces; -1: invalid."""
        row = self.rows[horizontal][state]
        found = row.get(option)
        if found is None:
            with self.lock:  # web workers may route at once; state numbering must not race
                current = self.states[state]
                result = (self._across if horizontal else self._along)(current, option)
                found = row[option] = self._id(result)
        return found

    def _along(self, state: _State, option: tuple[int, ...]) -> _State | None:
        degrees, labels_t, finished = state
        if finished:
            return state if not any(option) else None
        deg, labels = list(degrees), list(labels_t)
        fresh = len(labels)

        def touch(v: int) -> None:
            nonlocal fresh
            if labels[v] < 0:
                labels[v] = fresh
                fresh += 1

        for block, how in enumerate(option):
            lo, hi = block, block + 1
            if how in (_PASS1, _PASS2):
                times = 1 if how == _PASS1 else 2
                touch(lo)
                touch(hi)
                deg[lo], deg[hi] = _add_degree(deg[lo], times), _add_degree(deg[hi], times)
                old, new = labels[hi], labels[lo]
                labels = [new if lab == old else lab for lab in labels]
            else:
                for v, used in ((lo, how in (_LOWER, _GAP)), (hi, how in (_UPPER, _GAP))):
                    if used:
                        touch(v)
                        deg[v] = _add_degree(deg[v], 2)
        return _canonical(deg, labels, False)

    def _across(self, state: _State, option: tuple[int, ...]) -> _State | None:
        degrees, labels_t, finished = state
        levels = self.levels
        if finished:
            return state if not any(option) else None
        deg, labels = list(degrees), list(labels_t)
        fresh = len(labels)
        new_deg, new_labels = [0] * levels, [-1] * levels
        for level, times in enumerate(option):
            if times:
                if labels[level] < 0:
                    labels[level] = fresh
                    fresh += 1
                deg[level] = _add_degree(deg[level], times)
                new_deg[level] = 1 if times == 1 else 2
                new_labels[level] = labels[level]
        if 1 in deg:  # a junction left behind with odd degree cannot be fixed any more
            return None
        old = {lab for lab in labels if lab >= 0}
        kept = {lab for lab in new_labels if lab >= 0}
        if old - kept:
            if len(old) == 1 and not kept:
                return _canonical([0] * levels, [-1] * levels, True)
            return None
        return _canonical(new_deg, new_labels, False)


_TABLES: dict[int, _Transitions] = {}


def _transitions(levels: int) -> _Transitions:
    table = _TABLES.get(levels)
    if table is None:
        table = _TABLES.setdefault(levels, _Transitions(levels))
    return table


@dataclass
class _Block:
    """An aisle piece in the DP: its ends, length and the stops on it by depth."""

    length: float
    passable: bool
    stops: list[tuple[float, int]]  # (offset, stop); stop 0 is the depot

    def options(self) -> list[tuple[int, float]]:
        """Ways to walk this piece and what each costs."""
        if not self.stops:
            if not self.passable:
                return [(_NONE, 0.0)]
            return [(_NONE, 0.0), (_PASS1, self.length), (_PASS2, 2 * self.length)]
        top, bottom = self.stops[-1][0], self.stops[0][0]
        if not self.passable:
            return [(_LOWER, 2 * top)]
        found = [
            (_PASS1, self.length),
            (_PASS2, 2 * self.length),
            (_LOWER, 2 * top),
            (_UPPER, 2 * (self.length - bottom)),
        ]
        if len(self.stops) > 1:
            found.append((_GAP, 2 * (self.length - self.largest_gap()[1])))
        return found

    def largest_gap(self) -> tuple[int, float]:
        """Index i and size of the largest gap between stops[i] and stops[i + 1]."""
        gaps = [(b[0] - a[0], -i) for i, (a, b) in enumerate(itertools.pairwise(self.stops))]
        size, neg = max(gaps)
        return -neg, size


def _dp_columns(problem: _Problem) -> tuple[list[int], dict[tuple[int, int], _Block]]:
    """Columns the DP must look at and the aisle pieces carrying stops (or the depot)."""
    network = problem.network
    blocks: dict[tuple[int, int], _Block] = {}

    def block(column: int, index: int) -> _Block:
        found = blocks.get((column, index))
        if found is None:
            c = network.columns[column]
            found = blocks[(column, index)] = _Block(
                network.block_length(column, index), c.aisle is not None, []
            )
        return found

    block(network.depot_column, 0).stops.append((0.0, 0))
    for s, at in enumerate(problem.located, start=1):
        block(at.column, at.block).stops.append((at.offset, s))
    for piece in blocks.values():
        piece.stops.sort()
    busy = sorted({column for column, _ in blocks})
    # Nothing beyond the outermost stops is worth walking. Between them, a run of empty aisles
    # of equal length is only ever crossed at its first or last aisle (the cost is linear in
    # where it is crossed), so the aisles inside such a run are skipped.
    kept: list[int] = []
    for left, right in itertools.pairwise(busy):
        kept.append(left)
        run = list(range(left + 1, right))
        if len({network.columns[c].length for c in run}) > 1:
            kept.extend(run)
        else:
            kept.extend(sorted({run[0], run[-1]}) if run else [])
    kept.append(busy[-1])
    return kept, blocks


def _dp_order(problem: _Problem) -> list[int]:
    """Stops in the order of an optimal tour (two-way aisles, at most one middle cross-aisle)."""
    network = problem.network
    levels = network.level_count
    table = _transitions(levels)
    columns, blocks = _dp_columns(problem)

    def block_options(column: int, index: int) -> list[tuple[int, float]]:
        piece = blocks.get((column, index))
        if piece is None:
            passable = network.columns[column].aisle is not None
            piece = _Block(network.block_length(column, index), passable, [])
        return piece.options()

    across_options = list(itertools.product(range(3), repeat=levels))
    costs: dict[int, float] = {table.start: 0.0}
    steps: list[tuple[bool, int, dict[int, tuple[int, tuple[int, ...]]]]] = []
    # along[c][k]: walk along cross-aisle k from column 0 to column c.
    along = [[0.0] * levels]
    for pieces in network.horizontal:
        along.append([a + b for a, b in zip(along[-1], pieces, strict=True)])
    previous = -1
    for column in columns:
        if previous >= 0:
            span = [b - a for a, b in zip(along[previous], along[column], strict=True)]
            priced = [(o, sum(t * d for t, d in zip(o, span, strict=True))) for o in across_options]
            costs = _relax(table, costs, True, priced, steps, column)
        per_block = [block_options(column, b) for b in range(levels - 1)]
        priced = [
            (tuple(o for o, _ in combo), sum(c for _, c in combo))
            for combo in itertools.product(*per_block)
        ]
        costs = _relax(table, costs, False, priced, steps, column)
        previous = column
    finish = tuple([0] * levels)
    ends = [(c, s) for s, c in costs.items() if table.step(s, True, finish) >= 0]
    if not ends:
        raise RoutingError("no tour found; the layout graph is not connected")
    _, state = min(ends)
    chosen: list[tuple[bool, int, tuple[int, ...]]] = []
    for horizontal, column, back in reversed(steps):
        state, option = back[state]
        chosen.append((horizontal, column, option))
    chosen.reverse()
    return _euler_order(problem, columns, blocks, chosen)


def _relax(
    table: _Transitions,
    costs: dict[int, float],
    horizontal: bool,
    priced: list[tuple[tuple[int, ...], float]],
    steps: list[tuple[bool, int, dict[int, tuple[int, tuple[int, ...]]]]],
    column: int,
) -> dict[int, float]:
    best: dict[int, float] = {}
    back: dict[int, tuple[int, tuple[int, ...]]] = {}
    for state, base in costs.items():
        row = table.row(state, horizontal)
        for option, extra in priced:
            nxt = row.get(option)
            if nxt is None:
                nxt = table.step(state, horizontal, option)
            if nxt < 0:
                continue
            total = base + extra
            if total < best.get(nxt, INF):
                best[nxt] = total
                back[nxt] = (state, option)
    steps.append((horizontal, column, back))
    return best


def _euler_order(
    problem: _Problem,
    columns: list[int],
    blocks: dict[tuple[int, int], _Block],
    chosen: list[tuple[bool, int, tuple[int, ...]]],
) -> list[int]:
    """Walk the chosen multigraph from the depot; stops in order of first visit."""
    levels = problem.network.level_count
    base = problem.size + 1

    def junction(column: int, level: int) -> int:
        return base + column * levels + level

    edges: list[tuple[int, int]] = []

    def walk(chain: Sequence[int], times: int) -> None:
        for a, b in itertools.pairwise(chain):
            edges.extend([(a, b)] * times)

    previous = -1
    for horizontal, column, option in chosen:
        if horizontal:
            for level, times in enumerate(option):
                walk([junction(previous, level), junction(column, level)], times)
            continue
        previous = column
        for b, how in enumerate(option):
            piece = blocks.get((column, b))
            stops = [s for _, s in piece.stops] if piece else []
            chain = [junction(column, b), *stops, junction(column, b + 1)]
            if how in (_PASS1, _PASS2):
                walk(chain, 1 if how == _PASS1 else 2)
            elif how == _LOWER:
                walk(chain[:-1], 2)
            elif how == _UPPER:
                walk(chain[1:], 2)
            elif how == _GAP and piece is not None:
                gap = piece.largest_gap()[0]
                walk(chain[: gap + 2], 2)
                walk(chain[gap + 2 :], 2)
    adjacency: dict[int, list[tuple[int, int]]] = {}
    for e, (a, b) in enumerate(edges):
        adjacency.setdefault(a, []).append((b, e))
        adjacency.setdefault(b, []).append((a, e))
    used = [False] * len(edges)
    circuit: list[int] = []
    stack = [0]
    while stack:  # Hierholzer: nodes leave the stack in (reversed) circuit order
        node = stack[-1]
        links = adjacency.get(node, [])
        while links and used[links[-1][1]]:
            links.pop()
        if links:
            nxt, e = links.pop()
            used[e] = True
            stack.append(nxt)
        else:
            circuit.append(stack.pop())
    seen = [False] * base
    seen[0] = True
    order: list[int] = []
    for node in reversed(circuit):
        if node < base and not seen[node]:
            seen[node] = True
            order.append(node)
    if len(order) != problem.size:
        raise RoutingError("internal error: the exact tour misses stops")
    return order


# --- Held-Karp ---------------------------------------------------------------------------------


def _held_karp(dist: NDArray[np.float64]) -> list[int]:
    """Optimal order by Held-Karp over subsets (any distances, asymmetric too)."""
    return _held_karp_groups(dist, [(s - 1, [s]) for s in range(1, dist.shape[0])])


def _held_karp_groups(
    dist: NDArray[np.float64], variants: Sequence[tuple[int, list[int]]]
) -> list[int]:
    """Shortest tour visiting every group once, each by one of its variants (stop sequences).

    Held-Karp over sets of groups; each subset size is one numpy step over all subsets, last
    variants and predecessors at once. With one single-stop variant per group it is plain
    Held-Karp; with aisle pieces as groups it is exact among tours that walk each piece in one go.
    """
    count = len(variants)
    groups = 1 + max(g for g, _ in variants)
    group_of = np.array([g for g, _ in variants], dtype=np.intp)
    first = np.array([seq[0] for _, seq in variants], dtype=np.intp)
    last = np.array([seq[-1] for _, seq in variants], dtype=np.intp)
    inside = np.array(
        [sum(float(dist[a, b]) for a, b in itertools.pairwise(seq)) for _, seq in variants]
    )
    # into[u, w]: from the end of variant w through variant u; never within one group.
    into = dist[last[None, :], first[:, None]] + inside[:, None]
    into = np.where(group_of[:, None] == group_of[None, :], INF, into)
    bit = np.left_shift(1, group_of)
    full = 1 << groups
    best = np.full((full, count), INF)
    parent = np.full((full, count), -1, dtype=np.intp)
    best[bit, np.arange(count)] = dist[0, first] + inside
    masks = np.arange(full)
    sizes = ((masks[:, None] >> np.arange(groups)[None, :]) & 1).sum(axis=1)
    for size in range(2, groups + 1):
        layer = masks[sizes == size]
        has = (layer[:, None] & bit[None, :]) != 0
        before = layer[:, None] ^ bit[None, :]
        candidates = best[before] + into[None, :, :]  # [mask, u, w]: ... w, then u
        pick = candidates.argmin(axis=2)
        value = np.take_along_axis(candidates, pick[:, :, None], axis=2)[:, :, 0]
        best[layer] = np.where(has, value, INF)
        parent[layer] = pick
    end = best[full - 1] + dist[last, 0]
    u = int(end.argmin())
    chain: list[int] = []
    mask = full - 1
    while u >= 0:
        chain.append(u)
        mask, u = mask ^ int(bit[u]), int(parent[mask, u])
    return [s for u in reversed(chain) for s in variants[u][1]]


# --- Local search ----------------------------------------------------------------------------


def _piece_variants(problem: _Problem) -> list[tuple[int, list[int]]]:
    """Each aisle piece's stops as one group: walked its one-way direction, or either way."""
    pieces: dict[tuple[int, int], list[int]] = {}
    for s, at in enumerate(problem.located, start=1):
        pieces.setdefault((at.column, at.block), []).append(s)
    variants: list[tuple[int, list[int]]] = []
    for group, ((column, _), stops) in enumerate(sorted(pieces.items())):
        stops.sort(key=lambda s: problem.located[s - 1].offset)
        direction = problem.network.columns[column].direction
        if direction is not Direction.DOWN:
            variants.append((group, stops))
        if direction is not Direction.UP and (len(stops) > 1 or direction is Direction.DOWN):
            variants.append((group, stops[::-1]))
    return variants


def _along_directions(problem: _Problem, order: list[int]) -> list[int]:
    """The order with every run of stops in one one-way aisle piece sorted the legal way."""
    fixed: list[int] = []
    for _, run in itertools.groupby(
        order, key=lambda s: (problem.located[s - 1].column, problem.located[s - 1].block)
    ):
        stops = list(run)
        direction = problem.network.columns[problem.located[stops[0] - 1].column].direction
        if direction is not Direction.BOTH:
            stops.sort(
                key=lambda s: problem.located[s - 1].offset, reverse=direction is Direction.DOWN
            )
        fixed.extend(stops)
    return fixed


def _local_search(
    dist: NDArray[np.float64], starts: Sequence[Sequence[int]], deadline: float, seed: int
) -> list[int]:
    """2-opt and Or-opt to a local optimum, then perturb and repeat until the deadline.

    Both moves are evaluated for all positions at once with numpy; 2-opt prices the reversed
    segment from prefix sums, so asymmetric (one-way) distances are handled exactly.
    """
    rng = random.Random(seed)
    descended = [_descend(dist, np.array([0, *start], dtype=np.intp), deadline) for start in starts]
    best = min(descended, key=lambda tour: _tour_cost(dist, tour))
    best_cost = _tour_cost(dist, best)
    n = len(best)
    stale = 0
    # Kicks rarely pay off late: after LOCAL_SEARCH_PATIENCE fruitless ones, stop early.
    patience = min(LOCAL_SEARCH_PATIENCE, LOCAL_SEARCH_PATIENCE_PER_STOP * n)
    while n > 8 and stale < patience and time.perf_counter() < deadline:
        # Double bridge: reconnects three segments in another order without reversing any,
        # which local 2-opt moves cannot undo in one step.
        a, b, c = sorted(rng.sample(range(1, n), 3))
        kicked = np.concatenate([best[:a], best[b:c], best[a:b], best[c:]])
        tour = _descend(dist, kicked, deadline)
        cost = _tour_cost(dist, tour)
        stale += 1
        if cost < best_cost - 1e-9:
            best, best_cost, stale = tour, cost, 0
    return [int(s) for s in best[1:]]


def _tour_cost(dist: NDArray[np.float64], tour: NDArray[np.intp]) -> float:
    return float(dist[tour, np.roll(tour, -1)].sum())


def _descend(
    dist: NDArray[np.float64], tour: NDArray[np.intp], deadline: float
) -> NDArray[np.intp]:
    """Best-improvement 2-opt / Or-opt until no move gains (or time runs out)."""
    n = len(tour)
    if n < 4:
        return tour
    idx = np.arange(n)
    while time.perf_counter() < deadline:
        nxt = np.roll(tour, -1)
        prev = np.roll(tour, 1)
        forward = np.concatenate([[0.0], np.cumsum(dist[tour, nxt])])
        backward = np.concatenate([[0.0], np.cumsum(dist[nxt, tour])])
        best_gain = -1e-9
        # (segment length, i, j, reverse): length 0 is 2-opt reversing tour[i..j]; otherwise
        # Or-opt moving tour[i..i+length-1] between tour[j] and tour[j+1].
        best_move: tuple[int, int, int, bool] | None = None
        # 2-opt: reverse tour[i..j].
        i, j = idx[1:, None], idx[None, 1:]
        a, b = prev[i], nxt[j]
        delta = (
            dist[a, tour[j]]
            + dist[tour[i], b]
            - dist[a, tour[i]]
            - dist[tour[j], b]
            + (backward[j] - backward[i])
            - (forward[j] - forward[i])
        )
        delta = np.where(j > i, delta, INF)
        k = int(delta.argmin())
        if delta.flat[k] < best_gain:
            best_gain = float(delta.flat[k])
            best_move = (0, k // (n - 1) + 1, k % (n - 1) + 1, True)
        # Or-opt: move tour[i..i+length-1] between tour[e] and tour[e+1], maybe reversed.
        edge_from, edge_to = tour[None, :], nxt[None, :]
        for length in OR_OPT_LENGTHS:
            if n - length < 2:
                break
            starts = idx[1 : n - length + 1]
            first, last = tour[starts], tour[starts + length - 1]
            before, after = prev[starts], nxt[starts + length - 1]
            removed = dist[before, first] + dist[last, after] - dist[before, after]
            inside = forward[starts + length - 1] - forward[starts]
            inside_rev = backward[starts + length - 1] - backward[starts]
            base = -dist[edge_from, edge_to] - removed[:, None]
            e = idx[None, :]
            blocked = (e >= starts[:, None] - 1) & (e <= starts[:, None] + length - 1)
            ahead = base + dist[edge_from, first[:, None]] + dist[last[:, None], edge_to]
            flipped = (
                base
                + dist[edge_from, last[:, None]]
                + dist[first[:, None], edge_to]
                + (inside_rev - inside)[:, None]
            )
            for reverse, moves in ((False, ahead), (True, flipped))[: 1 if length == 1 else 2]:
                moves = np.where(blocked, INF, moves)
                k = int(moves.argmin())
                if moves.flat[k] < best_gain:
                    best_gain = float(moves.flat[k])
                    best_move = (length, int(starts[k // n]), k % n, reverse)
        if best_move is None:
            break
        tour = _apply(tour, best_move)
    return tour


def _apply(tour: NDArray[np.intp], move: tuple[int, int, int, bool]) -> NDArray[np.intp]:
    length, i, j, reverse = move
    items = [int(s) for s in tour]
    if length == 0:
        items[i : j + 1] = items[i : j + 1][::-1]
    else:
        segment = items[i : i + length]
        if reverse:
            segment.reverse()
        anchor = items[j]
        rest = items[:i] + items[i + length :]
        at = rest.index(anchor) + 1
        items = rest[:at] + segment + rest[at:]
    return np.array(items, dtype=np.intp)


def stop_matrix(
    layout: Layout, picks: Iterable[PickPoint], zone: str | None = None
) -> NDArray[np.float64]:
    """Distances between the depot (0) and the distinct places of `picks` (first-seen order)."""
    places: dict[tuple[int, float], PickPoint] = {}
    for pick in picks:
        places.setdefault((pick.aisle, pick.y), pick)
    return layout.network(zone).matrix(list(places.values()))
