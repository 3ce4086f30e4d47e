"""Tracker kinds as plugins: one package per kind (jira/, github/), listed only by `registry`.

The core asks `registry.kind(name)` for everything vendor-specific and never names a vendor itself.
"""
