"""Serial barcode scanners: line framing with AIM identifiers, GS1 via biip, driver, simulator."""
