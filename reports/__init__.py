"""The core of claritybot, one subpackage per capability, imported in one direction.

    alerts → delivery → render → history → store
    ingest → clarity → store

Everything may use the small kernel beside this file: errors, settings, timezones, urls, textfmt,
templates, notify (the owner-notification port) and workers (process identity and liveness).
The kernel imports no subpackage. Nothing here imports `bot`; `tests/test_layers.py` enforces it.
"""
