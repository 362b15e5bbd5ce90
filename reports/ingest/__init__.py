"""The nightly job: Clarity → stored days (fetch plan, calls, snapshots, recovery, scheduler).

Owns: when a day is due, claiming it, spending calls, storing rows, recording gaps.
May import: `reports.clarity`, the kernel and `store`; never history, render, delivery or alerts.
"""
