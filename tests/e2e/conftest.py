"""A real server (the `wms serve` command in a subprocess) and headless Chromium to drive it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

CHROMIUM = os.environ.get("WMS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("WMS_SCREENSHOTS", "var/screenshots"))
# Flags that keep Chromium from reaching for the internet on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests need Chromium; CI must have it, elsewhere they are skipped with a reason."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI must run the browser tests: no Chromium at {CHROMIUM}")
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    """A running server and what the tests need to reach it."""

    url: str
    config: Path
    database_url: str


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`wms demo` builds a small demo warehouse, then `wms serve` serves it on a free port."""
    root = tmp_path_factory.mktemp("site")
    config = yaml.safe_load(Path("config.yaml").read_text())
    database_url = f"sqlite:///{root / 'demo.sqlite3'}"
    port = _free_port()
    config["database"]["url"] = database_url
    config["server"]["port"] = port
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    wms = [sys.executable, "-m", "web.cli", "--config", str(config_path)]
    env = {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}
    subprocess.run(
        [
            *wms,
            "demo",
            "--no-serve",
            "--database",
            database_url,
            "--locations",
            "200",
            "--items",
            "80",
            "--b2c-orders",
            "40",
            "--b2b-orders",
            "4",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    log = (root / "server.log").open("w")
    process = subprocess.Popen([*wms, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
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
        yield LiveServer(f"http://127.0.0.1:{port}", config_path, database_url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context (no cookies) and page for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: object, name: str) -> Path:
    """Save a screenshot to look at after the run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
