"""Release of 10,000 B2C orders into routed cart batches, against FCFS carts walked by S-shape.

    python benchmarks/batching.py                        # 10,000 orders, 8 totes per cart
    python benchmarks/batching.py --totes 12 --window 400 --one-way

Times the whole release (grouping plus routing every cart) and compares the total walk with carts
filled first come, first served and walked by S-shape.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from picking.batching import Cart, batch_orders, fcfs_batches, random_orders  # noqa: E402
from picking.layout import random_layout  # noqa: E402


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--totes", type=int, nargs="+", default=[8, 12])
    parser.add_argument("--window", type=int, default=None, help="default: 25 carts of orders")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kind", choices=["sparse", "dense"], default="sparse")
    parser.add_argument("--one-way", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the median is shown")
    args = parser.parse_args()

    layout = random_layout(args.seed, args.kind, one_way=args.one_way)
    orders = random_orders(layout, args.orders, args.seed)
    lines = sum(len(o.lines) for o in orders)
    aisle_length = layout.aisles[0].length
    print(
        f"layout: {len(layout.aisles)} aisles x {aisle_length:g} m, depot x={layout.start_x:g}, "
        f"{'one-way' if args.one_way else 'two-way'}; {len(orders)} orders, {lines} lines "
        f"({lines / len(orders):.2f} per order), seed {args.seed}\n"
    )
    print(
        "| totes | batches | time (median) | time (max) | travel | FCFS + S-shape "
        "| shorter by | FCFS + our routing | m per order | expedited in first carts |"
    )
    print("|---" * 10 + "|")
    for totes in args.totes:
        cart = Cart(totes=totes, tote_units=12)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            plan = batch_orders(layout, orders, cart, window=args.window)
            times.append(time.perf_counter() - started)
        fcfs = fcfs_batches(layout, orders, cart)
        # The same FCFS carts routed by our method: what batching alone saves.
        fcfs_routed = fcfs_batches(layout, orders, cart, method="best")
        batched = sum(len(b.order_ids) for b in plan.batches)
        expedited = {o.order_id for o in orders if o.priority == 0}
        last_expedited = max(
            b.sequence for b in plan.batches if expedited.intersection(b.order_ids)
        )
        print(
            f"| {totes} | {len(plan.batches)} | {statistics.median(times):.2f} s "
            f"| {max(times):.2f} s | {plan.distance / 1000:.1f} km | {fcfs.distance / 1000:.1f} km "
            f"| {100 * (1 - plan.distance / fcfs.distance):.1f} % "
            f"| {fcfs_routed.distance / 1000:.1f} km "
            f"| {plan.distance / batched:.1f} "
            f"| {len(expedited)} in carts 1-{last_expedited} |",
            flush=True,
        )
    print(f"\n{len(plan.oversize)} orders over one tote's capacity set aside (picked otherwise)")


if __name__ == "__main__":
    main()
