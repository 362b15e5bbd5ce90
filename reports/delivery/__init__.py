"""Subscriptions → reports sent exactly once: cadence, compose, dispatch, email, outbox.

Owns: what is due to whom, composing the report, the delivery ledger and the senders.
May import: `reports.render`, `reports.history`, the kernel and `store`; never ingest or alerts.
"""
