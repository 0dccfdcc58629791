"""Helpers the tests share: fixtures data, fake servers, worker processes, API clients."""
