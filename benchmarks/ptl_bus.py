"""Pick-to-light bus benchmark: lights/s and press-to-event latency against the simulator.

The simulator serves RTU over socket://127.0.0.1 and paces every reply with real wire timing
(11-bit characters at the configured baud, t3.5 before and after, a device turnaround), so the
figures can be held against the reference's arithmetic (reference/devices.md A.6,
reference/performance.md section 4):

    transaction = (request bytes + reply bytes) x 11 / baud + 2 x t3.5 + turnaround

Three measurements per baud rate:

1. lights/s, one light per unit (FC16 x 3 registers each), the whole zone lit at once;
2. lights/s on put-wall controllers that keep their lights contiguous (8 slots coalesced into
   one FC16 of 24 registers);
3. steady floor traffic with the bus half busy (tasks at 0.5 / (light-on + poll) per second,
   each answered by a press) and ``--lit`` lights lit and polled: light-on latency (task
   active -> unit lit) and press -> event latency, p50/p99.

Run from the repository root:  .venv/bin/python benchmarks/ptl_bus.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.ptl.codec import LightAddress, LightState  # noqa: E402
from devices.ptl.driver import ButtonPressed, PtlBus, PtlBusConfig, PtlEvent  # noqa: E402
from devices.ptl.profile import GENERIC_PTL_V1, Color, Mode, PtlProfile  # noqa: E402
from devices.ptl.simulator import PtlSimulator, SimLight, WireTiming, frame_sizes  # noqa: E402

#: Lights kept contiguous, counters in a block of their own: what performance.md section 4
#: recommends for put walls ("expose lights as contiguous registers, coalesce into FC16").
WALL_PROFILE = PtlProfile.from_dict(
    {
        "name": "bench-wall-controller",
        "registers": {"color": 0, "mode": 1, "qty": 2, "ack_count": 100, "short_count": 200},
        "colors": {c.value: i for i, c in enumerate(Color)},
        "modes": {m.value: i for i, m in enumerate(Mode)},
        "poll": ["mode", "qty", "ack_count", "short_count"],
        "slots_per_unit": 8,
        "slot_stride": {"color": 3, "mode": 3, "qty": 3, "ack_count": 1, "short_count": 1},
    }
)


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Spin (1 ms) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish")
        time.sleep(0.001)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Rig:
    """A paced simulator and a bus driver on one loopback URL."""

    sim: PtlSimulator
    bus: PtlBus
    locations: list[str]

    def close(self) -> None:
        self.bus.stop()
        self.sim.stop()


def make_rig(
    baud: int,
    turnaround: float,
    units: int,
    profile: PtlProfile = GENERIC_PTL_V1,
    on_event: Callable[[PtlEvent], None] | None = None,
    listener: Callable[[SimLight], None] | None = None,
) -> Rig:
    """Start a paced simulator and a bus; returns once every unit has been read once."""
    url = f"socket://127.0.0.1:{free_port()}"
    lights = {
        f"L{u:02d}-{s}": LightAddress(u, s)
        for u in range(1, units + 1)
        for s in range(profile.slots_per_unit)
    }
    timing = WireTiming(baud, turnaround=turnaround)
    sim = PtlSimulator(
        url, range(1, units + 1), profile, timing=timing, pace=True, listener=listener
    )
    sim.start()
    config = PtlBusConfig(
        "bench", url, lights, profile=profile, timeout=0.3, idle_check=1.0, wire_log_size=10
    )
    bus = PtlBus(config, on_event)
    bus.start()
    wait(lambda: all(bus.unit_reads(u) for u in range(1, units + 1)))
    return Rig(sim, bus, list(lights))


def theory(timing: WireTiming, function: int, count: int) -> float:
    """Seconds per transaction by the reference's formula."""
    request, reply = frame_sizes(function, count)
    return timing.transaction(request, reply)


def lights_per_second(rig: Rig, rounds: int) -> float:
    """Light every location at once, time until every write is acknowledged; median rate."""
    rates = []
    for r in range(rounds):
        wave = {
            location: LightState(Color.GREEN, Mode.STEADY, n % 100 + r)
            for n, location in enumerate(rig.locations)
        }
        started = time.perf_counter()
        rig.bus.apply(wave)
        wait(lambda: rig.bus.pending() == 0)
        rates.append(len(rig.locations) / (time.perf_counter() - started))
        rig.bus.all_off()
        wait(lambda: rig.bus.pending() == 0)
    return statistics.median(rates)


class FloorTraffic:
    """Lights tasks at a fixed rate, presses the oldest lit light, and times both paths."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.activated: dict[int, float] = {}
        self.light_latency: list[float] = []
        self.pressed: dict[str, float] = {}
        self.press_latency: list[float] = []

    def on_light(self, light: SimLight) -> None:
        """Simulator listener (its thread): a unit went lit."""
        with self.lock:
            started = self.activated.pop(light.address.unit, None)
            if started is not None and light.lit and light.lit_at is not None:
                self.light_latency.append(light.lit_at - started)

    def on_event(self, event: PtlEvent) -> None:
        """Bus callback (its thread): a press came back."""
        if isinstance(event, ButtonPressed):
            now = time.monotonic()
            with self.lock:
                started = self.pressed.pop(event.location, None)
            if started is not None:
                self.press_latency.append(now - started)


def floor_latency(
    baud: int, turnaround: float, units: int, lit: int, rate: float, duration: float
) -> tuple[FloorTraffic, dict[str, int]]:
    """Light ``rate`` tasks/s with about ``lit`` lights lit; measure both latencies."""
    traffic = FloorTraffic()
    rig = make_rig(baud, turnaround, units, on_event=traffic.on_event, listener=traffic.on_light)
    try:
        rng = random.Random(7)
        lit_order: deque[int] = deque()
        dark = list(range(1, units + 1))
        interval = 1.0 / rate
        next_tick = time.monotonic()
        end = next_tick + duration
        while next_tick < end:
            time.sleep(max(0.0, next_tick - time.monotonic()))
            # Presses come from people: press the longest-lit light once enough are lit.
            while len(lit_order) >= lit:
                unit = lit_order.popleft()
                location = f"L{unit:02d}-0"
                if rig.sim.light(unit).lit:
                    with traffic.lock:
                        traffic.pressed[location] = time.monotonic()
                    rig.sim.press(unit)
                dark.append(unit)
            unit = dark.pop(rng.randrange(len(dark)))
            with traffic.lock:
                traffic.activated[unit] = time.monotonic()
            rig.bus.light(f"L{unit:02d}-0", Color.BLUE, Mode.FLASH_SLOW, rng.randint(1, 9))
            lit_order.append(unit)
            next_tick += interval
        time.sleep(1.0)  # let the last presses come back
        counters = dict(rig.bus.health().counters)
    finally:
        rig.close()
    return traffic, counters


def main() -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baud", type=int, nargs="+", default=[19200, 38400])
    parser.add_argument("--turnaround", type=float, default=0.005, help="device latency, s")
    parser.add_argument("--units", type=int, default=30, help="units on the bus (<= 32)")
    parser.add_argument("--lit", type=int, default=10, help="lights kept lit in the floor run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="floor run, s")
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 3.0

    rows = []
    for baud in args.baud:
        timing = WireTiming(baud, turnaround=args.turnaround)
        light_t = theory(timing, 16, 3)
        wall_t = theory(timing, 16, 3 * WALL_PROFILE.slots_per_unit)
        poll_regs = len(GENERIC_PTL_V1.poll)
        poll_t = theory(timing, 3, poll_regs)
        limit = 1 / light_t
        wall_limit = WALL_PROFILE.slots_per_unit / wall_t

        rig = make_rig(baud, args.turnaround, args.units)
        try:
            measured = lights_per_second(rig, args.rounds)
        finally:
            rig.close()
        wall_units = max(1, args.units // WALL_PROFILE.slots_per_unit)
        rig = make_rig(baud, args.turnaround, wall_units, WALL_PROFILE)
        try:
            wall_measured = lights_per_second(rig, args.rounds)
        finally:
            rig.close()
        # "Half busy": each task costs its light-on and at least the one poll that finds its
        # press; run tasks at the rate that keeps that mandatory traffic at 50% of the bus.
        rate = 0.5 / (light_t + poll_t)
        traffic, counters = floor_latency(
            baud, args.turnaround, args.units, args.lit, rate, args.duration
        )
        cycle = args.lit * poll_t / (1 - rate * light_t)
        rows.append(
            {
                "baud": baud,
                "light_t": light_t,
                "limit": limit,
                "measured": measured,
                "wall_limit": wall_limit,
                "wall_measured": wall_measured,
                "rate": rate,
                "on50": percentile(traffic.light_latency, 0.5),
                "on99": percentile(traffic.light_latency, 0.99),
                "ev50": percentile(traffic.press_latency, 0.5),
                "ev99": percentile(traffic.press_latency, 0.99),
                "n_on": len(traffic.light_latency),
                "n_ev": len(traffic.press_latency),
                "cycle": cycle,
                "poll_t": poll_t,
                "crc": counters["crc_errors"] + counters["timeouts"],
            }
        )

    ms = 1000.0
    print()
    print(
        f"PTL bus over socket:// with wire pacing: 11-bit chars, t3.5, "
        f"{args.turnaround * ms:.0f} ms device turnaround, {args.units} units"
    )
    print()
    header = (
        "| baud | light-on FC16x3 (theory) | lights/s limit | lights/s measured | % |"
        " wall 8-slot FC16 limit | wall measured | % |"
    )
    print(header)
    print("|---" * 8 + "|")
    for r in rows:
        print(
            f"| {r['baud']:,} | {r['light_t'] * ms:.1f} ms | {r['limit']:.1f} | "
            f"{r['measured']:.1f} | {100 * r['measured'] / r['limit']:.0f}% | "
            f"{r['wall_limit']:.0f} | {r['wall_measured']:.0f} | "
            f"{100 * r['wall_measured'] / r['wall_limit']:.0f}% |"
        )
    print()
    print(
        f"Floor traffic, bus half busy: tasks/s = 0.5 / (light-on + poll), ~{args.lit} lights lit"
        f" and polled (FC03x{len(GENERIC_PTL_V1.poll)}), people pressing the longest-lit light"
    )
    print()
    print(
        "| baud | tasks/s | light-on p50 | light-on p99 | press->event p50 | press->event p99 |"
        " poll cycle of lit units (theory) | samples on/press | timeouts+CRC |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['baud']:,} | {r['rate']:.1f} | {r['on50'] * ms:.1f} ms | "
            f"{r['on99'] * ms:.1f} ms | {r['ev50'] * ms:.0f} ms | {r['ev99'] * ms:.0f} ms | "
            f"{r['cycle'] * ms:.0f} ms | "
            f"{r['n_on']}/{r['n_ev']} | {r['crc']} |"
        )
    print()
    print(
        "Theory per reference A.6: transaction = (request + reply bytes) x 11/baud + 2 x t3.5 + "
        "turnaround; t3.5 = 3.5 chars up to 19,200 baud, 1.75 ms above. Poll cycle = lit x poll"
        " / (1 - share of the bus taken by light-on writes); press->event is about half a cycle"
        " at p50 and up to a cycle (plus the pressed lights still being polled) at p99."
    )


if __name__ == "__main__":
    main()
