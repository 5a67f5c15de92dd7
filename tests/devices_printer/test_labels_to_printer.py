"""Labels printed through the driver to the simulated printer, then rendered from what it got."""

from __future__ import annotations

from devices.printer.driver import ZebraPrinter
from devices.printer.simulator import SimulatedZebraPrinter
from devices.printer.transport import transport_from_url
from labels.zpl import job_bytes, label_zpl
from tests.labels.decoding import decode, gs1_hri, zpl_image
from tests.labels.samples import LOGISTIC_CASE, SHIPPING, SSCC


def test_the_printer_holds_the_labels_and_they_scan() -> None:
    formats = [label_zpl(SHIPPING), label_zpl(LOGISTIC_CASE)]
    job = job_bytes(formats)
    with SimulatedZebraPrinter() as simulator:
        printer = ZebraPrinter(transport_from_url(simulator.url), status_timeout=1.0)
        printer.print_job(job)
        (received,) = simulator.jobs
    assert received.data == job
    shipping, logistic = received.labels
    assert {b.text for b in decode(zpl_image(shipping))} >= {"ORD-12345", "1Z999AA10123456784"}
    assert f"(00){SSCC}" in {gs1_hri(b) for b in decode(zpl_image(logistic))}
