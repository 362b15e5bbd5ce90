"""Clarity data in, reports out: client, parser, fetch plan, snapshots, sandbox.

Imports `store`, never `bot`.
"""
