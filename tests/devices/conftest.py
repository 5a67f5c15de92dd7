"""Shared helpers for device tests: free loopback ports and deadline-based waiting."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

from devices.socat import socat_available

T = TypeVar("T")

# Generous deadlines: the suite must pass on a loaded 2-core machine; they are only spent on
# failure, since every wait returns as soon as its condition holds.
DEADLINE = 8.0

needs_socat = pytest.mark.skipif(
    not socat_available(), reason="needs socat (apt-get install socat)"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], T], timeout: float = DEADLINE, what: str = "condition") -> T:
    """Poll ``condition`` until it is truthy; fail the test with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def socket_url() -> str:
    """A ``socket://`` URL on a free loopback port."""
    return f"socket://127.0.0.1:{free_port()}"
