"""DORMANT_ENV=production refuses to start with dev or missing secrets, naming each offending variable.

The check is in settings validation, so the worker, the API and every CLI command refuse alike.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import DEV_UNSUBSCRIBE_SECRET, Settings

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DORMANT_ENV": "production",
    "DORMANT_UNSUBSCRIBE_SECRET": "u" * 32,
    "DORMANT_WEBHOOK_SECRET": "w" * 32,
    "DORMANT_PAYLOAD_KEYS": "k2026:" + "A" * 43 + "=",
    "DORMANT_DECISION_KEY": "d" * 32,
}
SECRETS = ("DORMANT_UNSUBSCRIBE_SECRET", "DORMANT_WEBHOOK_SECRET", "DORMANT_PAYLOAD_KEYS", "DORMANT_DECISION_KEY")


@pytest.fixture(autouse=True)
def _no_ambient_secrets(monkeypatch):
    for name in (*SECRETS, "DORMANT_ENV"):
        monkeypatch.delenv(name, raising=False)


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **env)


def refusal(**env: str) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**env)
    return str(caught.value)


def test_dev_is_the_default_and_keeps_the_dev_secret():
    active = settings()
    assert active.env == "dev"
    assert active.unsubscribe_secret.get_secret_value() == DEV_UNSUBSCRIBE_SECRET


def test_production_with_real_secrets_starts():
    assert settings(**GOOD).env == "production"
    assert settings(**{**GOOD, "DORMANT_ENV": "Production"}).env == "production"


def test_production_with_nothing_set_names_every_variable():
    message = refusal(DORMANT_ENV="production")
    assert "DORMANT_ENV=production refuses to start" in message
    assert "DORMANT_UNSUBSCRIBE_SECRET is the dev default" in message
    assert "DORMANT_WEBHOOK_SECRET is not set" in message
    assert "DORMANT_PAYLOAD_KEYS is not set" in message


@pytest.mark.parametrize("name, value, reason", [
    ("DORMANT_UNSUBSCRIBE_SECRET", DEV_UNSUBSCRIBE_SECRET, "is the dev default"),
    ("DORMANT_UNSUBSCRIBE_SECRET", "x" * 31, "is shorter than 32 characters"),
    ("DORMANT_WEBHOOK_SECRET", "", "is not set"),
    ("DORMANT_WEBHOOK_SECRET", "x" * 31, "is shorter than 32 characters"),
    ("DORMANT_PAYLOAD_KEYS", "", "is not set"),
])
def test_each_bad_secret_is_named_alone(name, value, reason):
    message = refusal(**{**GOOD, name: value})
    assert f"{name} {reason}" in message
    assert all(other not in message for other in SECRETS if other != name)
    for secret in (*GOOD.values(), value):  # the refusal names variables, never their values
        assert not secret or secret == "production" or secret not in message


def test_a_missing_secret_is_refused():
    env = {k: v for k, v in GOOD.items() if k != "DORMANT_WEBHOOK_SECRET"}
    assert "DORMANT_WEBHOOK_SECRET is not set" in refusal(**env)


def test_unknown_env_is_refused():
    assert "DORMANT_ENV" in refusal(DORMANT_ENV="staging")


def test_the_cli_refuses_to_start_in_production(tmp_path):
    """A process reads the environment: `dormant` exits non-zero and says which variables are wrong."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DORMANT_ENV": "production",
           "DORMANT_UNSUBSCRIBE_SECRET": "short", "DORMANT_PAYLOAD_KEYS": GOOD["DORMANT_PAYLOAD_KEYS"],
           "DORMANT_SMTP_PASSWORD": "smtp-password-never-printed"}
    done = subprocess.run([sys.executable, "-m", "dormant.cli", "outbox"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "DORMANT_UNSUBSCRIBE_SECRET is shorter than 32 characters" in output
    assert "DORMANT_WEBHOOK_SECRET is not set" in output
    assert "DORMANT_PAYLOAD_KEYS" not in output  # it is set: only the offending variables are named
    assert "smtp-password-never-printed" not in output and GOOD["DORMANT_PAYLOAD_KEYS"] not in output
