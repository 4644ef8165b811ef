"""Endpoints that only exist for bench/sign.py: the baselines a benchmark compares to.

They are routed only when GROUNDSWELL_BENCH_ENDPOINTS is on; never enable it in production.
"""
