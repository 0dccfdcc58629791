"""Deployment configuration: infrastructure and secrets from the environment (kept out of the pure core)."""
