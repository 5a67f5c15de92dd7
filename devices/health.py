"""Device health as the admin page and the supervisor dashboard see it.

Four states grouped the way InvenTree groups machine status codes: everything fine, a warning
(degraded but working), a fault of the device or its wiring, and a fault of our own driver.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class HealthState(Enum):
    """How a device is doing, worst last."""

    OK = "ok"
    WARNING = "warning"
    DEVICE_FAULT = "device_fault"
    DRIVER_FAULT = "driver_fault"

    @property
    def label(self) -> str:
        """The word shown on the admin page: online, degraded, offline or error."""
        return _LABELS[self]


_LABELS = {
    HealthState.OK: "online",
    HealthState.WARNING: "degraded",
    HealthState.DEVICE_FAULT: "offline",
    HealthState.DRIVER_FAULT: "error",
}


@dataclass(frozen=True)
class DeviceHealth:
    """A snapshot of one device's health; ``parts`` are e.g. the units of a bus."""

    name: str
    kind: str
    state: HealthState
    detail: str = ""
    #: Wall-clock time of the last successful exchange with the device, or None.
    last_seen: float | None = None
    counters: Mapping[str, int] = field(default_factory=dict)
    parts: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form for the web layer."""
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self.state.value,
            "label": self.state.label,
            "detail": self.detail,
            "last_seen": self.last_seen,
            "counters": dict(self.counters),
            "parts": dict(self.parts),
        }


@dataclass(frozen=True)
class DeviceStateChanged:
    """A device went offline, came back, restarted or failed; published for dashboards."""

    device: str
    state: HealthState
    detail: str
    part: str | None = None
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class WireFrame:
    """One exchange on the wire, kept in a short in-memory log per device."""

    at: float
    direction: str
    data: bytes
    note: str = ""

    def __str__(self) -> str:
        note = f"  # {self.note}" if self.note else ""
        return f"{self.direction} {self.data.hex(' ').upper()}{note}"
