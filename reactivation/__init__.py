"""The domain core of dormant-outreach: models, policy, scoring, templates and settings.

Nothing in this package performs I/O or imports Temporal, so every rule can be unit-tested
directly and called from workflow code without breaking determinism.
"""
