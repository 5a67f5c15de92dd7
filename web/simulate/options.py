"""The simulator's options (SimulationOptions) and what the actors share: User-Agent, GTINs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

USER_AGENT = "wms-floor-simulator/1.0"

GtinLookup = Callable[[str, str], str | None]  # (sku, unit: each/case/pallet) -> barcode


@dataclass(frozen=True)
class SimulationOptions:
    """How the virtual pickers behave."""

    url: str
    badges: tuple[str, ...]
    speed: float = 1.0  # 1 = real time; 20 = twenty times faster
    walk_seconds: float = 12.0  # between two pick locations, at speed 1
    scan_seconds: float = 2.0  # each scan, at speed 1
    wrong_scan_rate: float = 0.03
    short_rate: float = 0.02
    idle_seconds: float = 20.0  # look again for work after this long without a cart
    timeout: float = 10.0
    seed: int = 0
    pack_station: str = ""  # a virtual packer packs picked orders here ("" = no packer)
    # The dock loader: None = the first dock door the API lists, "" = no loader.
    dock: str | None = None
    truck_parcels: int = 12  # a truck leaves once it holds this many parcels...
    truck_minutes: float = 30.0  # ...or this long (at speed 1) after its first parcel
    load_seconds: float = 8.0  # to carry one parcel onto the truck, at speed 1
    # The put-wall operator: None = the first simulated put wall on the light panel, "" = none.
    put_wall: str | None = None
    put_seconds: float = 3.0  # to put the units of one lit slot, at speed 1
    # The shift lead releases the next wave while fewer carts than this wait for a picker:
    # None = twice the number of pickers, 0 = never.
    release_below: int | None = None
    release_check_seconds: float = 30.0  # the lead looks at the floor this often, at speed 1
    order_rate: float = 2.0  # new webshop orders a minute at speed 1 (0 = no order feed)
    order_prefix: str = "SIM-"  # fed orders are numbered <prefix><run>-<n>
    order_batch_seconds: float = 60.0  # the orders that arrived are posted this often, speed 1
