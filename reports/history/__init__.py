"""Stored days → numbers: one read into a History (`load`), the catalogue, series and
breakdowns, the quality guard, exports.

Owns: the read side of what ingest stored, and what a metric means.
May import: the kernel and `store`; never clarity, ingest, render, delivery or alerts.
"""
