"""`wms serve` on its default gevent worker drives a real pick-to-light bus end to end.

The bus is a simulator in this test's process, on its own threads, reached over socket://
as a device server would be; the server's driver runs as greenlets of the gevent worker.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from devices.ptl.simulator import PtlSimulator

WAIT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}


def _light_picks(path: str) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT scan_event.id, scan_event.outcome FROM scan_event "
            "JOIN movement ON movement.scan_id = scan_event.id "
            "WHERE scan_event.kind = 'light' AND movement.kind = 'pick'"
        ).fetchall()


@pytest.fixture(scope="module")
def served_bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PtlSimulator, str, str]]:
    """A demo database, a simulated bus for its zone P, and `wms serve` (gevent) driving it."""
    root = tmp_path_factory.mktemp("gevent-bus")
    config = yaml.safe_load(Path("config.yaml").read_text())
    assert config["server"]["worker"] == "gevent"  # the default this test is about
    db_path = root / "demo.sqlite3"
    config["database"]["url"] = f"sqlite:///{db_path}"
    port = _free_port()
    config["server"]["port"] = port
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    wms = [sys.executable, "-m", "web.cli", "--config", str(config_path)]
    built = subprocess.run(
        [*wms, "demo", "--no-serve", "--database", f"sqlite:///{db_path}"]
        + ["--locations", "200", "--items", "80"]
        + ["--b2c-orders", "40", "--b2b-orders", "0"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    with sqlite3.connect(db_path) as db:
        faces = [
            code
            for (code,) in db.execute(
                "SELECT location.code FROM location JOIN zone ON zone.id = location.zone_id "
                "WHERE zone.code = 'P' ORDER BY location.walk_sequence"
            )
        ]
    assert faces, "the demo has no pick-to-light zone"
    bus_url = f"socket://127.0.0.1:{_free_port()}"
    lights: dict[str, int] = {code: n for n, code in enumerate(faces, start=1)}
    lights["P-DONE"] = len(faces) + 1
    simulator = PtlSimulator(bus_url, units=range(1, len(faces) + 2))
    simulator.start()
    config["zones"] = [z for z in config["zones"] if z["code"] != "P"] + [
        {"code": "P", "name": "Pick-to-light", "kind": "pick_to_light"}
    ]
    config["devices"] = [
        {
            "name": "ptl-p",
            "kind": "ptl_bus",
            "driver": "generic-ptl-v1",
            "url": bus_url,
            "baudrate": 38400,
            "zone": "P",
            "lights": lights,
            "order_complete": "P-DONE",
        }
    ]
    config_path.write_text(yaml.safe_dump(config))
    log_path = root / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen([*wms, "serve"], env=_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WAIT
        while "Using worker: gevent" not in log_path.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.2)
        yield simulator, str(db_path), str(log_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        simulator.stop()


def test_the_gevent_worker_lights_the_open_picks_and_a_press_confirms_one(
    served_bus: tuple[PtlSimulator, str, str],
) -> None:
    simulator, db_path, log_path = served_bus
    deadline = time.monotonic() + WAIT
    lit = []
    while not lit and time.monotonic() < deadline:
        lit = [a for a, light in simulator.lights().items() if light.lit and light.qty]
        time.sleep(0.2)
    assert lit, "no light was lit by the server's driver:\n" + Path(log_path).read_text()[-3000:]
    address = lit[0]
    assert simulator.press(address.unit, address.slot)
    while not _light_picks(db_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    picks = _light_picks(db_path)
    assert len(picks) == 1 and picks[0][1] == "accepted", Path(log_path).read_text()[-3000:]
    # The confirmed pick's light goes dark again (the driver wrote it off over the bus).
    while simulator.light(address.unit, address.slot).lit and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not simulator.light(address.unit, address.slot).lit
