"""Bring the database in line with config.yaml: its zones and its devices."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.catalog import ensure_zone
from wms.config import Settings
from wms.db.schema import Device, Zone
from wms.model import DeviceKind


def sync_from_settings(session: Session, settings: Settings) -> None:
    """Create or update the zones and devices that config.yaml names (never deletes any)."""
    for zone_settings in settings.zones:
        ensure_zone(session, zone_settings.code, zone_settings.name, zone_settings.kind)
    zone_ids = {code: zone_id for code, zone_id in session.execute(select(Zone.code, Zone.id))}
    wanted = [
        (d.name, DeviceKind(d.kind), d.driver, d.url, d.zone, d.station) for d in settings.devices
    ] + [(p.name, DeviceKind.PRINTER, p.driver, p.url, None, p.station) for p in settings.printers]
    for name, kind, driver, url, zone, station in wanted:
        device = session.scalar(select(Device).where(Device.name == name))
        if device is None:
            device = Device(name=name, status="unknown")
            session.add(device)
        device.kind, device.driver, device.transport_url = kind, driver, url
        device.zone_id = zone_ids.get(zone) if zone else None
        device.station = station
    session.flush()
