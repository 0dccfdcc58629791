"""Orchestration only: one workflow class per file, its input and result models beside it."""
