"""docker-compose.yml, Dockerfile and .env.example stay consistent with the code, checked without Docker.

There is no Docker engine where the suite runs, so the compose file is validated by parsing it: the
services and their start order, that every variable given to an app container is a real setting (a typo
there is silently ignored by pydantic-settings), that the compose defaults are the settings' defaults and
validate, that the search attributes registered are exactly the ones the workflows upsert, and that
`.env.example` lists every setting and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from config.settings import Settings
from dormant.temporal_dev import SEARCH_ATTRIBUTES

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
APP_IMAGE = "dormant-outreach:local"
_INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}")
_REQUIRED = re.compile(r"\$\{([A-Z0-9_]+):\?([^}]*)\}")
# What an operator exports before `docker compose up` (compose stops on `${VAR:?message}` without them).
OPERATOR_SECRETS = {
    "DORMANT_PAYLOAD_KEYS": "k2026:" + "A" * 43 + "=",
    "DORMANT_UNSUBSCRIBE_SECRET": "u" * 43,
    "DORMANT_WEBHOOK_SECRET": "w" * 43,
    "DORMANT_DECISION_KEY": "d" * 43,
}


def setting_aliases() -> dict[str, str]:
    """Environment name -> field name, from the validation aliases of Settings."""
    aliases = {}
    for name, field in Settings.model_fields.items():
        for choice in field.validation_alias.choices:
            aliases[choice] = name
    return aliases


def interpolate(value: str, given: dict[str, str] | None = None) -> str:
    """What compose makes of a value when none of its variables is set: each `${VAR:-default}` -> default.
    A required `${VAR:?message}` takes its value from `given` (compose refuses to start without it)."""
    value = _REQUIRED.sub(lambda m: (given or {})[m.group(1)], value) if given is not None else value
    return _INTERPOLATION.sub(lambda m: m.group(2) or "", value)


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


@pytest.fixture(scope="module")
def app_services(services) -> dict:
    found = {name: s for name, s in services.items() if s.get("image") == APP_IMAGE}
    assert {"worker", "api", "migrate"} <= set(found)
    return found


def depends(service: dict) -> dict:
    deps = service.get("depends_on", {})
    return deps if isinstance(deps, dict) else {d: {"condition": "service_started"} for d in deps}


def test_the_stack_has_every_part_in_order(services):
    assert {"postgres", "temporal", "temporal-ui", "admin-tools", "temporal-setup", "worker", "api"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert depends(services["admin-tools"])["postgres"]["condition"] == "service_healthy"
    assert depends(services["temporal"])["admin-tools"]["condition"] == "service_completed_successfully"
    for name in ["postgres", "temporal", "api"]:
        assert "healthcheck" in services[name], name


@pytest.mark.parametrize("name", ["worker", "api"])
def test_worker_and_api_wait_for_their_dependencies(services, name):
    deps = depends(services[name])
    assert deps["postgres"]["condition"] == "service_healthy"
    assert deps["temporal"]["condition"] == "service_healthy"
    assert deps["temporal-setup"]["condition"] == "service_completed_successfully"  # search attributes exist
    assert deps["migrate"]["condition"] == "service_completed_successfully"


def test_app_services_run_the_contract_commands(services, app_services):
    assert all(s.get("build") == "." for s in app_services.values())
    assert services["worker"]["command"] == ["python", "worker.py"]
    assert services["api"]["command"] == ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"]
    scale = [s for s in app_services.values() if "scale" in s.get("profiles", [])]
    assert scale and all(s["command"] == ["python", "worker.py"] for s in scale)
    assert all(int(interpolate(str(s["deploy"]["replicas"]))) >= 2 for s in scale), "the scale profile runs several"
    assert all("profiles" not in services[name] for name in ["worker", "api", "migrate"])


def test_app_environment_names_are_real_settings(app_services):
    aliases = setting_aliases()
    for name, service in app_services.items():
        unknown = sorted(set(service["environment"]) - set(aliases))
        assert unknown == [], f"{name} sets variables no setting reads: {unknown}"


def test_compose_defaults_are_the_settings_defaults(app_services):
    aliases = setting_aliases()
    for key, value in app_services["worker"]["environment"].items():
        match = _INTERPOLATION.fullmatch(value or "")
        if key in ("DATABASE_URL", "TEMPORAL_ADDRESS") or not match:
            continue  # those two point at compose services on purpose; pass-through values have no default
        assert match.group(1) == key, f"{key} is interpolated from {match.group(1)}"
        field = aliases[key]
        parsed = getattr(Settings(_env_file=None, **{key: match.group(2)}), field)
        assert parsed == Settings.model_fields[field].default, key


@pytest.mark.parametrize("name", ["worker", "api"])
def test_required_settings_point_at_compose_services(services, name):
    env = {k: interpolate(v, OPERATOR_SECRETS) for k, v in services[name]["environment"].items() if v is not None}
    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in ("postgresql", "postgres") and database.hostname == "postgres"
    assert database.port == 5432 and database.path.strip("/")
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    settings = Settings(_env_file=None, **env)  # the defaults compose would use validate as settings
    assert settings.database_url == env["DATABASE_URL"] and settings.temporal_address == "temporal:7233"
    assert settings.env == "production"  # and pass the production checks once the operator sets the secrets


def test_setup_job_registers_every_search_attribute_with_its_type(services):
    script = "\n".join(services["temporal-setup"]["command"])
    created = dict(re.findall(r"search-attribute create .*--name (\w+) --type (\w+)", script))
    assert created == SEARCH_ATTRIBUTES
    assert "namespace create" in script
    assert services["temporal-setup"]["environment"]["NAMESPACE"] == "${TEMPORAL_NAMESPACE:-default}"
    assert services["temporal-setup"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    schema = "\n".join(services["admin-tools"]["command"])
    assert "temporal_visibility" in schema and "update-schema" in schema


def test_api_is_published_and_temporal_only_on_localhost(services):
    assert "8000:8000" in services["api"]["ports"]
    # Temporal's gRPC frontend and its UI have no authentication: never on every interface.
    assert services["temporal-ui"]["ports"] == ["127.0.0.1:8233:8080"]
    assert services["temporal"]["ports"] == ["127.0.0.1:7233:7233"]
    for name, service in services.items():
        for port in service.get("ports", []):
            published = str(port)
            if published.endswith((":7233", ":8080", ":5432")):
                assert published.startswith("127.0.0.1:"), f"{name} publishes {published} on every interface"


def test_compose_runs_in_production_and_requires_every_secret(app_services):
    """No public default for any secret: compose stops without each, and the settings refuse the stack
    without them too (DORMANT_ENV=production)."""
    text = (ROOT / "docker-compose.yml").read_text()
    assert "dev-only-unsubscribe-secret" not in text
    for name, service in app_services.items():
        env = service["environment"]
        assert env["DORMANT_ENV"] == "production", name
        for secret in OPERATOR_SECRETS:
            assert env[secret].startswith(f"${{{secret}:?set {secret}"), (name, secret)
        resolved = {k: interpolate(v, OPERATOR_SECRETS) for k, v in env.items() if v is not None}
        assert Settings(_env_file=None, **resolved).env == "production"
        for secret in OPERATOR_SECRETS:  # any one missing: refused, naming it
            without = {k: v for k, v in resolved.items() if k != secret}
            with pytest.raises(ValueError, match=secret):
                Settings(_env_file=None, **without)


def test_dockerfile_builds_the_worker_image():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.12-slim$", text, re.M)
    assert "pip install ." in text
    assert re.search(r'^CMD \["python", "worker\.py"\]$', text, re.M)


def env_example() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, commented out). A commented-out line documents a setting whose default is unset."""
    entries = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"(# ?)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            assert match.group(2) not in entries, f"{match.group(2)} is listed twice"
            entries[match.group(2)] = (match.group(3), bool(match.group(1)))
    return entries


def test_env_example_lists_every_setting_and_nothing_else():
    assert set(env_example()) == set(setting_aliases())


def test_env_example_values_are_the_defaults():
    aliases = setting_aliases()
    for key, (value, commented) in env_example().items():
        default = Settings.model_fields[aliases[key]].default
        if commented:
            assert default is None, f"{key} has a default ({default!r}): list it uncommented"
        else:
            assert getattr(Settings(_env_file=None, **{key: value}), aliases[key]) == default, key


def test_payload_encryption_is_on_in_compose(services, app_services):
    """Compose refuses to start without a key, and the UI decodes through the API's codec endpoint."""
    for name, service in app_services.items():
        assert service["environment"]["DORMANT_PAYLOAD_KEYS"].startswith("${DORMANT_PAYLOAD_KEYS:?"), name
    ui = services["temporal-ui"]["environment"]
    assert interpolate(ui["TEMPORAL_CODEC_ENDPOINT"]) == "http://localhost:8000/codec"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
