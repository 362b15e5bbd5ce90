"""Numbers → PNG charts and words: charts, facts, summaries, and the OpenAI edge.

Owns: how numbers look and read; given values, it draws and phrases them.
May import: `reports.history`, the kernel and `store`; never ingest, delivery or alerts.
"""
