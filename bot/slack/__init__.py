"""The Slack app: `/clarity` commands, the connect modal, App Home and chart posts.

The only package that imports slack_bolt. Heavy work runs in lazy listeners after the ack.
"""
