"""`wms simulate` against a live server: virtual pickers make real picks, scans and shorts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from wms.db import Database
from wms.db.schema import Movement, Order, ScanEvent, User
from wms.model import MovementKind, OrderStatus, ScanOutcome


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], str, str]]:
    """A small demo warehouse served by `wms serve` in a subprocess: (wms command, url, db)."""
    root = tmp_path_factory.mktemp("simulated")
    config = yaml.safe_load(Path("config.yaml").read_text())
    database_url = f"sqlite:///{root / 'demo.sqlite3'}"
    port = _free_port()
    config["database"]["url"] = database_url
    config["server"].update({"port": port, "host": "127.0.0.1"})
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    wms = [sys.executable, "-m", "web.cli", "--config", str(config_path)]
    env = {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}
    subprocess.run(
        [*wms, "demo", "--no-serve", "--database", database_url, "--locations", "200",
         "--items", "80", "--b2c-orders", "40", "--b2b-orders", "0"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    log = (root / "server.log").open("w")
    process = subprocess.Popen([*wms, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((root / "server.log").read_text()) from None
            time.sleep(0.1)
    try:
        yield wms, f"http://127.0.0.1:{port}", database_url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_virtual_pickers_make_real_picks(server):
    wms, url, database_url = server
    env = {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}
    run = subprocess.run(
        [*wms, "simulate", "--url", url, "--pickers", "2", "--speed", "40",
         "--wrong-scan-rate", "0.5", "--short-rate", "0.1", "--duration", "12",
         "--seed", "3", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr + run.stdout
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["pickers"] == 2
    assert summary["picks"] > 0, summary
    assert summary["wrong_scans"] > 0, summary
    assert not summary["errors"], summary

    db = Database(database_url)
    try:
        with db.read() as session:
            sims = session.scalars(select(User.id).where(User.username.in_(["sim01", "sim02"])))
            sim_ids = list(sims)
            assert len(sim_ids) == 2
            picks = session.scalar(
                select(func.count())
                .select_from(Movement)
                .where(Movement.kind == MovementKind.PICK, Movement.user_id.in_(sim_ids))
            )
            wrong = session.scalar(
                select(func.count())
                .select_from(ScanEvent)
                .where(
                    ScanEvent.user_id.in_(sim_ids),
                    ScanEvent.outcome == ScanOutcome.REFUSED,
                    ScanEvent.reason == "wrong_location",
                )
            )
    finally:
        db.dispose()
    # Every pick the simulator counted is a row of the ledger (shorts that found some add more).
    assert picks is not None and picks >= summary["picks"]
    assert wrong == summary["wrong_scans"]
    # The virtual packer (the supervisor, at pack-1) packed what was picked: ledger and status.
    assert summary["packed"] > 0, summary
    db = Database(database_url)
    try:
        with db.read() as session:
            packed_orders = session.scalar(
                select(func.count()).select_from(Order).where(Order.status == OrderStatus.PACKED)
            )
            shipped_orders = session.scalar(
                select(func.count()).select_from(Order).where(Order.status == OrderStatus.SHIPPED)
            )
            pack_moves = session.scalar(
                select(func.count()).select_from(Movement).where(Movement.kind == MovementKind.PACK)
            )
    finally:
        db.dispose()
    # The virtual dock loader may have shipped some of them already (a truck that filled up).
    assert packed_orders + shipped_orders == summary["packed"] and pack_moves
    assert shipped_orders == summary["orders_shipped"]
    assert summary["put_wall"] is None  # `wms serve` without devices: no put wall to work


def test_simulate_says_so_when_no_server_answers(server, tmp_path):
    wms, _url, _db = server
    env = {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}
    run = subprocess.run(
        [*wms, "simulate", "--url", f"http://127.0.0.1:{_free_port()}", "--wait", "1"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert "No server answers" in run.stderr
