"""`wms demo --no-simulate` serving a small warehouse in a subprocess, for the simulator tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """This process's environment without the variables that would point `wms` elsewhere."""
    return {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}


@contextmanager
def served_demo(root: Path) -> Iterator[tuple[list[str], str, str]]:
    """Serve a fresh demo under ``root``: (wms command, url, database url); stopped after."""
    config = yaml.safe_load(Path("config.yaml").read_text())
    database_url = f"sqlite:///{root / 'demo.sqlite3'}"
    port = free_port()
    config["database"]["url"] = database_url
    config["server"].update({"port": port, "host": "127.0.0.1"})
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    wms = [sys.executable, "-m", "web.cli", "--config", str(config_path)]
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [*wms, "demo", "--no-simulate", "--database", database_url, "--locations", "200",
         "--items", "80", "--b2c-orders", "40", "--b2b-orders", "0"],
        env=clean_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((root / "server.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield wms, f"http://127.0.0.1:{port}", database_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
