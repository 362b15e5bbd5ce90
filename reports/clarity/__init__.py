"""The Clarity edge and its wire format: client, parser, dimensions, rows, tokens, sandbox.

Owns: knowing Clarity (HTTP calls, field spellings, JWT shape) — not our tables.
May import: the kernel (`reports/*.py`) and `store`; no other `reports` subpackage.
"""
