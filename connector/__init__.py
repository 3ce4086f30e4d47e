"""plansync: keeps a declared execution plan and its Jira and GitHub trackers honest with each other."""

__version__ = "0.1.0"
