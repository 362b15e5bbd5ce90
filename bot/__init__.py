"""The user-facing edges: the `claritybot` command line now, the Slack app later.

The only composition root: reads settings, builds engines and clients, passes them down.
"""
