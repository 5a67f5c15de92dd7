"""Typed printer errors; the spooler retries on all of them, the web layer shows ``status``."""

from __future__ import annotations

from devices.errors import DeviceError
from devices.printer.codec import PrinterState, PrinterStatus


class PrinterError(DeviceError):
    """Base of printer errors; ``status`` says what the packer should see."""

    def __init__(self, printer: str, status: PrinterStatus) -> None:
        super().__init__(f"{printer}: {status.message}")
        self.printer = printer
        self.status = status


class PrinterUnreachable(PrinterError):
    """No connection to the printer (off, unplugged, wrong address, CUPS queue missing)."""

    def __init__(self, printer: str, detail: str) -> None:
        super().__init__(printer, PrinterStatus.of(PrinterState.UNREACHABLE, detail))


class PrinterNotReady(PrinterError):
    """The status before a job forbids sending it (paper out, head open, paused, no reply)."""


class PrinterConnectionLost(PrinterError):
    """The connection broke while a job was being sent: part of it may have arrived."""

    def __init__(self, printer: str, detail: str) -> None:
        super().__init__(printer, PrinterStatus.of(PrinterState.UNREACHABLE, detail))
