"""Reliability and security suite (issue #11): faults, crashes, hostile input, secrets, rate budgets.

`make test` runs the fast settings; `make soak` the `slow` ones (60 crash seeds, 40 kill seeds, 1000
fuzz examples per file). Set PLANSYNC_RELIABILITY_TABLE=FILE to collect one JSON line per case
(fault, outcome, data lost) for the summary table.
"""
