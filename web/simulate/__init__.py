"""The floor simulator: virtual pickers as real Socket.IO handhelds against a running server.

Each virtual picker signs in at ``/badge`` like a handheld (the same HTTP session and
User-Agent carry the cookie to the websocket, as Flask-Login's "strong" session protection
wants), connects to ``/handheld`` over the websocket transport and follows the protocol of
docs/handheld-protocol.md: ``take_batch``, bind totes, walk to the location, scan it, scan
the item's unit GTIN once per unit, scan the tote; ``confirm`` for tote-less order picks;
``short`` now and then. The walk and each scan take realistic times divided by ``speed``;
a wrong location is scanned at ``wrong_scan_rate`` (then the right one).

The same client is the load generator of benchmarks/dashboard_load.py (``speed`` high,
many pickers); benchmarks/handheld_load.py drives the same protocol with its own harness.

The package, one actor a module: ``options`` (SimulationOptions, what the actors share),
``pickers`` (VirtualPicker), ``supervisor`` (the Supervisor API client), ``dock``
(DockLoader), ``put_wall`` (PutWallOperator), ``shift_lead`` (ShiftLead: wave release and
the order feed) and ``simulation`` (Simulation, which composes them, and wait_for_server).
"""

from __future__ import annotations

from web.simulate.dock import DockLoader, DockTally
from web.simulate.options import USER_AGENT, GtinLookup, SimulationOptions
from web.simulate.pickers import NAMESPACE, PickerTally, VirtualPicker
from web.simulate.put_wall import PutWallOperator, WallTally
from web.simulate.shift_lead import (
    FEED_ADDRESSES,
    FEED_CARRIERS,
    FEED_NAMES,
    FEED_SURNAMES,
    FlowTally,
    ShiftLead,
    next_collection,
)
from web.simulate.simulation import Simulation, wait_for_server
from web.simulate.supervisor import Supervisor

__all__ = [
    "FEED_ADDRESSES",
    "FEED_CARRIERS",
    "FEED_NAMES",
    "FEED_SURNAMES",
    "NAMESPACE",
    "USER_AGENT",
    "DockLoader",
    "DockTally",
    "FlowTally",
    "GtinLookup",
    "PickerTally",
    "PutWallOperator",
    "ShiftLead",
    "Simulation",
    "SimulationOptions",
    "Supervisor",
    "VirtualPicker",
    "WallTally",
    "next_collection",
    "wait_for_server",
]
