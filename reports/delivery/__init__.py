"""Subscriptions → reports sent exactly once: cadence, readiness, compose, tiles, dispatch, senders.

Owns: what is due to whom, composing the report, the delivery ledger, the senders (email,
outbox) and sending one now outside the ledger.
May import: `reports.render`, `reports.history`, the kernel and `store`; never ingest or alerts.
"""
