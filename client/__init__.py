"""Temporal client code: connecting (with the payload codec) and starting workflows; used by the worker, the
API, the CLI and activities, never by workflow code."""
