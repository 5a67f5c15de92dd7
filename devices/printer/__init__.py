"""Zebra label printers: ``~HS`` status codec, transports (raw TCP 9100, CUPS, serial, folder),
a driver that checks status before and after each job, and a simulated printer for tests."""
