"""Persistence: SQLModel tables, migrations, the quota ledger and token encryption.

Imports neither `bot` nor `reports`.
"""
