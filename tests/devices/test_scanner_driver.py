"""The serial scanner driver against the scanner simulator over socket:// and a socat pty pair."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from devices.health import HealthState
from devices.scanner.codec import ScanConfig
from devices.scanner.driver import (
    ScannerConfig,
    ScannerEvent,
    ScanRead,
    ScanRejected,
    SerialScanner,
)
from devices.scanner.simulator import ScannerSimulator
from devices.socat import PtyPair
from tests.devices.conftest import needs_socat, wait_for

GS1_LINE = "01095060001343521726123110LOT42\x1d21SER1"


class Events:
    """Collects scanner events from the reader thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.all: list[ScannerEvent] = []

    def __call__(self, event: ScannerEvent) -> None:
        with self._lock:
            self.all.append(event)

    def scans(self) -> list[ScanRead]:
        with self._lock:
            return [e for e in self.all if isinstance(e, ScanRead)]

    def rejected(self) -> list[ScanRejected]:
        with self._lock:
            return [e for e in self.all if isinstance(e, ScanRejected)]


FAST = {"reconnect_initial": 0.05, "reconnect_max": 0.3, "line_gap": 0.3}


@pytest.fixture
def rig(socket_url: str) -> Iterator[tuple[ScannerSimulator, SerialScanner, Events]]:
    sim = ScannerSimulator(socket_url)
    sim.start()
    events = Events()
    config = ScannerConfig("pack-1", socket_url, scan=ScanConfig(gs_substitutes=("|",)), **FAST)
    scanner = SerialScanner(config, events)
    scanner.start()
    try:
        # Open flushes stale input, so scans only count once the driver says it is open.
        wait_for(lambda: scanner.health().state is HealthState.OK, what="scanner port open")
        wait_for(sim.connected, what="simulator to see the app")
        yield sim, scanner, events
    finally:
        scanner.stop()
        sim.stop()


def test_a_gs1_scan_arrives_as_a_typed_event(
    rig: tuple[ScannerSimulator, SerialScanner, Events],
) -> None:
    sim, scanner, events = rig
    sim.scan(GS1_LINE, "]C1")
    [read] = wait_for(events.scans, what="scan event")
    assert read.device == "pack-1"
    assert (read.scan.gtin, read.scan.lot, read.scan.serial) == ("09506000134352", "LOT42", "SER1")
    sim.scan("TOTE-0042")
    wait_for(lambda: len(events.scans()) == 2, what="second scan")
    assert events.scans()[1].scan.value == "TOTE-0042"
    health = scanner.health()
    assert health.state is HealthState.OK and health.counters["scans"] == 2


def test_garbled_and_incomplete_lines_are_rejected_clearly(
    rig: tuple[ScannerSimulator, SerialScanner, Events],
) -> None:
    sim, scanner, events = rig
    sim.send_raw(b"]C1\x00\xff\x13noise\r\n")
    sim.scan("011234", "]C1")
    sim.send_raw(b"]C0NO-SUFFIX")  # the scanner lost its CR/LF suffix setting
    wait_for(lambda: len(events.rejected()) == 3, what="three rejections")
    garbled, invalid, partial = events.rejected()
    assert garbled.garbled and garbled.reason.startswith("garbled line")
    assert not invalid.garbled and invalid.reason.startswith("not a valid GS1 symbol")
    assert partial.reason == "incomplete line (no CR/LF suffix arrived)"
    assert scanner.health().state is HealthState.WARNING
    sim.scan("AFTER")
    wait_for(events.scans, what="a good scan after the bad ones")


def test_reconnects_after_the_device_server_goes_away(
    rig: tuple[ScannerSimulator, SerialScanner, Events],
) -> None:
    sim, scanner, events = rig
    sim.stop()
    wait_for(lambda: scanner.health().state is HealthState.DEVICE_FAULT, what="loss noticed")
    sim.start()
    wait_for(lambda: scanner.health().state is HealthState.OK, what="reconnect")
    wait_for(sim.connected, what="simulator to see the app")
    sim.scan(GS1_LINE.replace("\x1d", "|"), "]C1")
    [read] = wait_for(events.scans, what="scan after reconnect")
    assert read.scan.serial == "SER1"
    assert scanner.health().counters["reconnects"] == 1


@needs_socat
def test_over_a_pty_pair_including_unplugging() -> None:
    events = Events()
    with PtyPair(name="scan") as pair:
        sim = ScannerSimulator(pair.device_end)
        sim.start()
        scanner = SerialScanner(ScannerConfig("put-wall-1", pair.host_end, **FAST), events)
        scanner.start()
        try:
            wait_for(lambda: scanner.health().state is HealthState.OK, what="port open")
            sim.scan("00006141411234567890", "]C1")
            [read] = wait_for(events.scans, what="SSCC scan")
            assert read.scan.sscc == "006141411234567890"

            sim.stop()
            pair.stop()  # USB scanner unplugged
            wait_for(lambda: scanner.health().state is HealthState.DEVICE_FAULT, what="loss")
            pair.start()
            sim.start()
            wait_for(lambda: scanner.health().state is HealthState.OK, what="reopened")
            sim.scan("5901234123457", "]E0")
            wait_for(lambda: len(events.scans()) == 2, what="scan after replug")
            assert events.scans()[1].scan.gtin == "5901234123457"
        finally:
            scanner.stop()
            sim.stop()
