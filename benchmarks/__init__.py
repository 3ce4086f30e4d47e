"""Benchmarks: API cost, wall time and peak memory of plansync at scale, against the sandbox (`python -m benchmarks`)."""
