"""Alert rules and their nightly evaluation: rules, verdicts, cooldowns, alert messages.

Owns: what a rule says and whether it fired, once per day.
May import: `reports.delivery`, `reports.render`, `reports.history`, the kernel and `store`.
"""
