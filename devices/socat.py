"""A pty pair made by socat: the real serial-port path with no hardware (tests, demo, simulators).

What is written to one end is read from the other, through the kernel's tty layer, exactly as
a USB-RS485 adapter or a USB-CDC scanner would appear. Stopping socat is what pulling the
adapter looks like to the driver: reads fail with EIO and the device path disappears.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from devices.errors import DeviceError

SOCAT = "socat"


def socat_available() -> bool:
    """Whether the socat binary is installed (Debian package ``socat``)."""
    return shutil.which(SOCAT) is not None


class PtyPair:
    """Two linked pseudo-terminals; ``device_end`` for the simulator, ``host_end`` for the app."""

    def __init__(self, directory: str | Path | None = None, name: str = "tty") -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="wms-pty-")
            directory = self._tmp.name
        self.directory = Path(directory)
        self.device_end = str(self.directory / f"{name}A")
        self.host_end = str(self.directory / f"{name}B")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether socat is up (the "adapter" is plugged in)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 5.0) -> None:
        """Start socat and wait until both device links exist."""
        if self.running:
            return
        if not socat_available():
            raise DeviceError("socat is not installed (apt-get install socat)")
        self._proc = subprocess.Popen(
            [
                SOCAT,
                f"pty,raw,echo=0,link={self.device_end}",
                f"pty,raw,echo=0,link={self.host_end}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not (Path(self.device_end).exists() and Path(self.host_end).exists()):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise DeviceError(f"socat did not create {self.device_end} and {self.host_end}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop socat: both ends vanish, like a pulled USB adapter."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def close(self) -> None:
        """Stop socat and remove the temporary directory."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> PtyPair:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
