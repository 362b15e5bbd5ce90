"""The nightly job: Clarity → stored days (plan, calls, snapshots, storing, recovery, scheduler).

Owns: when a day is due, claiming it, spending calls, storing rows, recording gaps; connecting
sources (one or a file of many) and the manual live look.
May import: `reports.clarity`, the kernel and `store`; never history, render, delivery or alerts.
"""
