"""Typed errors of the device layer, translated once at the boundary for the person on the floor."""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every error the device layer raises on purpose."""


class ConfigError(DeviceError, ValueError):
    """A device, profile or light configuration that cannot work."""


class TransportError(DeviceError):
    """A byte transport could not be used."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class TransportOpenError(TransportError):
    """The transport could not be opened (port missing, adapter unplugged, server down)."""


class TransportGone(TransportError):
    """An open transport went away (adapter pulled, device server rebooted, peer closed)."""
