"""Side effects, each behind a Temporal activity: evidence (PostgreSQL), drafting, delivery, ledger.

Activities are methods on classes that hold their clients (pool, settings), built once in `worker.py`.
Configuration and secrets come from settings, never from activity inputs, which histories record.
"""
