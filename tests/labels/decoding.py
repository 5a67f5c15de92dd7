"""Independent checks for labels: zplkit renders ZPL, pdftoppm rasterises PDF, zxing-cpp decodes.

None of these tools is used by the label code itself, so a label that passes here was drawn
right, not just generated consistently.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import biip
import pytest
from PIL import Image

zplkit = pytest.importorskip("zplkit", reason="zplkit (test-only ZPL renderer) is not installed")
zplkit_parse = pytest.importorskip("zplkit.parse")
zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (test-only decoder) is not installed")

GS1_IDS = ("]C1", "]d2", "]Q3")


@dataclass(frozen=True, order=True)
class Decoded:
    """One barcode found in an image: AIM symbology id and raw text (GS as \\x1d)."""

    symbology: str
    text: str

    @property
    def scanned(self) -> str:
        """What a serial scanner with AIM ids would send."""
        return self.symbology + self.text


def zpl_image(zpl: str | bytes, profile: str = "specification") -> Image.Image:
    """Render one ZPL label with zplkit; zplkit raises on ZPL it does not accept."""
    data = zpl.encode("utf-8") if isinstance(zpl, str) else zpl
    document = zplkit.render(data, zplkit.Options(profile=profile, dpi=203))
    assert len(document.labels) == 1
    raster = document.labels[0].rasterize()
    return Image.frombytes("L", (raster.width, raster.height), raster.pixels)


def decode(image: Image.Image) -> list[Decoded]:
    """Every barcode zxing-cpp finds, with raw text (FNC1 separators as GS)."""
    results = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    return sorted(Decoded(r.symbology_identifier, r.text) for r in results)


def gs1_hri(found: Decoded) -> str:
    """Parse a GS1 barcode with biip and demand every check digit is right."""
    assert found.symbology in GS1_IDS, found
    result = biip.parse(found.scanned)
    assert result.gs1_message is not None, result.gs1_message_error
    assert result.gs1_message_error is None
    for element in result.gs1_message.element_strings:
        assert element.gtin_error is None, element.gtin_error
        assert element.sscc_error is None, element.sscc_error
        assert element.gln_error is None, element.gln_error
    # biip reports a bad SSCC on the result too, while gs1_message_error stays None (B.5).
    assert result.sscc_error is None, result.sscc_error
    assert result.gtin_error is None, result.gtin_error
    return str(result.gs1_message.as_hri())


def pdf_pages(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    """Rasterise a PDF with poppler's pdftoppm, one greyscale image per page."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source), str(Path(folder) / "page")],
            check=True,
            timeout=60,
        )
        pages = []
        for path in sorted(Path(folder).glob("page*.png")):
            with Image.open(path) as image:
                pages.append(image.convert("L"))
        return pages


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF as poppler's pdftotext extracts it."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        done = subprocess.run(
            ["pdftotext", "-layout", str(source), "-"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return done.stdout.decode("utf-8")
