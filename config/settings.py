"""Settings from the environment (and `.env`), with the names fixed by the design contract.

Standard names where they exist (DATABASE_URL, TEMPORAL_ADDRESS, OPENAI_*), DORMANT_-prefixed names for
the product's own. Secrets live here and are read by workers and the API at start-up; they never travel
in workflow or activity inputs, which Temporal records in histories.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reactivation.durations import parse_duration
from reactivation.policy_config import PolicyConfig, load_policy
from reactivation.send_window import parse_window, zone

DELIVERY_MODES = ("outbox", "smtp", "sms")
DEV_UNSUBSCRIBE_SECRET = "dev-only-unsubscribe-secret-change-me"
MIN_SECRET_CHARS = 32  # DORMANT_ENV=production refuses shorter unsubscribe and webhook secrets

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """Every setting the product reads. `.env.example` lists each one with its default."""

    # hide_input_in_errors: a refusal must never print the values it was given (secrets among them).
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True,
                                      hide_input_in_errors=True)

    # --- deployment: `production` refuses to start with dev or missing secrets ---
    env: Literal["dev", "production"] = Field("dev", validation_alias=_env("DORMANT_ENV"))

    # --- external services (standard names) ---
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    temporal_address: str = Field("localhost:7233", validation_alias=_env("TEMPORAL_ADDRESS"))
    temporal_namespace: str = Field("default", validation_alias=_env("TEMPORAL_NAMESPACE"))
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    openai_model: str = Field("gpt-4o-mini", validation_alias=_env("OPENAI_MODEL"))
    llm_timeout: Duration = Field(timedelta(seconds=60), validation_alias=_env("DORMANT_LLM_TIMEOUT"))
    llm_rate_per_s: float = Field(2.0, gt=0, validation_alias=_env("DORMANT_LLM_RATE_PER_S"))
    llm_input_usd_per_1k: float = Field(0.00015, ge=0, validation_alias=_env("DORMANT_LLM_INPUT_USD_PER_1K"))
    llm_output_usd_per_1k: float = Field(0.0006, ge=0, validation_alias=_env("DORMANT_LLM_OUTPUT_USD_PER_1K"))

    # --- embedded stack ---
    data_dir: Path = Field(Path(".data"), validation_alias=_env("DORMANT_DATA_DIR"))
    embedded_pg_port: int = Field(55432, validation_alias=_env("DORMANT_EMBEDDED_PG_PORT"))
    temporal_ui_port: int = Field(8233, validation_alias=_env("DORMANT_TEMPORAL_UI_PORT"))
    api_host: str = Field("127.0.0.1", validation_alias=_env("DORMANT_API_HOST"))
    api_port: int = Field(8000, validation_alias=_env("DORMANT_API_PORT"))
    public_url: str = Field("http://localhost:8000", validation_alias=_env("DORMANT_PUBLIC_URL"))

    # --- worker ---
    task_queue: str = Field("dormant-outreach", validation_alias=_env("DORMANT_TASK_QUEUE"))
    llm_task_queue: str = Field("dormant-outreach-llm", validation_alias=_env("DORMANT_LLM_TASK_QUEUE"))
    db_pool_size: int = Field(10, ge=1, validation_alias=_env("DORMANT_DB_POOL_SIZE"))
    worker_workflow_tasks: int = Field(100, ge=1, validation_alias=_env("DORMANT_WORKER_WORKFLOW_TASKS"))
    worker_activities: int = Field(100, ge=1, validation_alias=_env("DORMANT_WORKER_ACTIVITIES"))
    worker_local_activities: int = Field(100, ge=1, validation_alias=_env("DORMANT_WORKER_LOCAL_ACTIVITIES"))
    # ~170 kB per cached workflow (bench/README.md): 500 keeps a worker near 190 MB however many accounts wait; a
    # waiting account that is not cached costs its owner's next decision ~30 ms of replay, nothing in memory.
    sticky_cache_size: int = Field(500, ge=0, validation_alias=_env("DORMANT_STICKY_CACHE_SIZE"))
    # The worker makes sure the owner-notification schedule exists; false where schedules are managed
    # elsewhere (one deployment of several, or a shared test server).
    schedules: bool = Field(True, validation_alias=_env("DORMANT_SCHEDULES"))
    activity_rate_per_s: float | None = Field(None, gt=0, validation_alias=_env("DORMANT_ACTIVITY_RATE_PER_S"))

    # --- policy and lifecycle durations (seconds or ISO 8601) ---
    dormancy_days: int = Field(90, ge=1, validation_alias=_env("DORMANT_DORMANCY_DAYS"))
    policy_file: Path | None = Field(None, validation_alias=_env("DORMANT_POLICY_FILE"))  # JSON PolicyConfig
    follow_up_after: Duration = Field(timedelta(days=2), validation_alias=_env("DORMANT_FOLLOW_UP_AFTER"))
    outcome_window: Duration = Field(timedelta(days=30), validation_alias=_env("DORMANT_OUTCOME_WINDOW"))
    review_reminder_after: Duration = Field(
        timedelta(days=3), validation_alias=_env("DORMANT_REVIEW_REMINDER_AFTER")
    )
    review_escalate_after: Duration = Field(
        timedelta(days=7), validation_alias=_env("DORMANT_REVIEW_ESCALATE_AFTER")
    )
    reentry_after: Duration = Field(timedelta(days=180), validation_alias=_env("DORMANT_REENTRY_AFTER"))
    no_response_cooloff: Duration = Field(timedelta(days=90), validation_alias=_env("DORMANT_NO_RESPONSE_COOLOFF"))
    delivery_give_up_after: Duration = Field(timedelta(days=1), validation_alias=_env("DORMANT_DELIVERY_GIVE_UP_AFTER"))
    standing_approval: bool = Field(False, validation_alias=_env("DORMANT_STANDING_APPROVAL"))
    default_timezone: str = Field("UTC", validation_alias=_env("DORMANT_DEFAULT_TIMEZONE"))
    holdout_share: float = Field(0.1, ge=0, le=0.5, validation_alias=_env("DORMANT_HOLDOUT_SHARE"))
    holdout_salt: str = Field("holdout-2026", min_length=1, validation_alias=_env("DORMANT_HOLDOUT_SALT"))

    # --- delivery ---
    delivery: str = Field("outbox", validation_alias=_env("DORMANT_DELIVERY"))
    delivery_timeout: Duration = Field(timedelta(seconds=60), validation_alias=_env("DORMANT_DELIVERY_TIMEOUT"))
    send_window: str = Field("Mon-Fri 09:00-17:00", validation_alias=_env("DORMANT_SEND_WINDOW"))
    mail_from: str = Field("accounts@dormant-outreach.example", validation_alias=_env("DORMANT_MAIL_FROM"))
    smtp_host: str = Field("localhost", validation_alias=_env("DORMANT_SMTP_HOST"))
    smtp_port: int = Field(25, validation_alias=_env("DORMANT_SMTP_PORT"))
    smtp_username: str | None = Field(None, validation_alias=_env("DORMANT_SMTP_USERNAME"))
    smtp_password: SecretStr | None = Field(None, validation_alias=_env("DORMANT_SMTP_PASSWORD"))
    smtp_starttls: bool = Field(False, validation_alias=_env("DORMANT_SMTP_STARTTLS"))
    sms_base_url: str = Field("https://api.twilio.com", validation_alias=_env("DORMANT_SMS_BASE_URL"))
    sms_account_sid: str | None = Field(None, validation_alias=_env("DORMANT_SMS_ACCOUNT_SID"))
    sms_auth_token: SecretStr | None = Field(None, validation_alias=_env("DORMANT_SMS_AUTH_TOKEN"))
    sms_from: str | None = Field(None, validation_alias=_env("DORMANT_SMS_FROM"))
    # IMAP mailbox read by `dormant mailbox`: imaps://user:password@host/INBOX (holds a password)
    imap_url: SecretStr | None = Field(None, validation_alias=_env("DORMANT_IMAP_URL"))
    imap_poll_seconds: float = Field(30.0, gt=0, validation_alias=_env("DORMANT_IMAP_POLL_SECONDS"))

    # --- owner notifications (digest, reminders, escalations, replies; see activities/notify.py) ---
    slack_webhook_url: SecretStr | None = Field(None, validation_alias=_env("DORMANT_SLACK_WEBHOOK_URL"))
    digest_hour: int = Field(8, ge=0, le=23, validation_alias=_env("DORMANT_DIGEST_HOUR"))  # UTC
    notify_from: str | None = Field(None, validation_alias=_env("DORMANT_NOTIFY_FROM"))  # default: mail_from

    # --- inbound mail (POST /v1/inbound/email, `dormant mailbox`) ---
    # replies@example.com: each email's Reply-To also names replies+<token>@example.com, so a reply is
    # matched to its message even when the customer's client drops In-Reply-To.
    reply_address: str | None = Field(None, pattern=r"^[^@\s+]+@[^@\s]+$", validation_alias=_env("DORMANT_REPLY_ADDRESS"))
    soft_bounce_limit: int = Field(3, ge=1, validation_alias=_env("DORMANT_SOFT_BOUNCE_LIMIT"))

    # --- security ---
    webhook_secret: SecretStr | None = Field(None, validation_alias=_env("DORMANT_WEBHOOK_SECRET"))
    payload_keys: SecretStr | None = Field(None, validation_alias=_env("DORMANT_PAYLOAD_KEYS"))
    # Signs owners' decisions in the API; workers refuse unsigned ones when set (comma-separated: first signs).
    decision_key: SecretStr | None = Field(None, validation_alias=_env("DORMANT_DECISION_KEY"))
    codec_cors_origins: str = Field("http://localhost:8233", validation_alias=_env("DORMANT_CODEC_CORS_ORIGINS"))
    unsubscribe_secret: SecretStr = Field(
        SecretStr(DEV_UNSUBSCRIBE_SECRET), validation_alias=_env("DORMANT_UNSUBSCRIBE_SECRET")
    )

    @field_validator("env", mode="before")
    @classmethod
    def _env_name(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        """DORMANT_ENV=production: every process (worker, API, CLI) refuses to start with a dev or missing
        secret, naming each offending variable."""
        if self.env != "production":
            return self
        problems = []
        unsubscribe = self.unsubscribe_secret.get_secret_value()
        if unsubscribe == DEV_UNSUBSCRIBE_SECRET:
            problems.append("DORMANT_UNSUBSCRIBE_SECRET is the dev default")
        elif len(unsubscribe) < MIN_SECRET_CHARS:
            problems.append(f"DORMANT_UNSUBSCRIBE_SECRET is shorter than {MIN_SECRET_CHARS} characters")
        webhook = self.webhook_secret.get_secret_value() if self.webhook_secret is not None else ""
        if not webhook:
            problems.append("DORMANT_WEBHOOK_SECRET is not set")
        elif len(webhook) < MIN_SECRET_CHARS:
            problems.append(f"DORMANT_WEBHOOK_SECRET is shorter than {MIN_SECRET_CHARS} characters")
        if self.payload_keys is None or not self.payload_keys.get_secret_value().strip():
            problems.append("DORMANT_PAYLOAD_KEYS is not set (`dormant new-key` prints an entry)")
        decision = self.decision_key.get_secret_value().split(",")[0].strip() if self.decision_key else ""
        if len(decision) < MIN_SECRET_CHARS:
            problems.append(f"DORMANT_DECISION_KEY is not set or shorter than {MIN_SECRET_CHARS} characters "
                            "(without it anyone who reaches Temporal can send decisions)")
        if problems:
            raise ValueError("DORMANT_ENV=production refuses to start: " + "; ".join(problems)
                             + f". The two secrets must be random values of at least {MIN_SECRET_CHARS} characters "
                             "(`python -c 'import secrets; print(secrets.token_urlsafe(32))'` prints one).")
        return self

    @field_validator("delivery")
    @classmethod
    def _delivery_modes(cls, value: str) -> str:
        modes = [m.strip().lower() for m in value.split(",") if m.strip()] or ["outbox"]
        unknown = sorted(set(modes) - set(DELIVERY_MODES))
        if unknown:
            raise ValueError(f"unknown delivery mode {', '.join(unknown)}: use outbox, smtp, sms or e.g. smtp,sms")
        return ",".join(modes)

    @field_validator("send_window")
    @classmethod
    def _valid_window(cls, value: str) -> str:
        parse_window(value)  # raises with the setting's name and the reason
        return value

    @field_validator("default_timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        zone(None, value)  # raises naming DORMANT_DEFAULT_TIMEZONE
        return value

    @property
    def sends_email(self) -> bool:
        """Email goes out by SMTP; otherwise it is only stored in the outbox."""
        return "smtp" in self.delivery.split(",")

    @property
    def sends_sms(self) -> bool:
        """SMS goes out through the HTTP provider; otherwise it is only stored in the outbox."""
        return "sms" in self.delivery.split(",")

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())


def policy_from(settings: Settings) -> PolicyConfig:
    """The policy in force: DORMANT_POLICY_FILE, or the defaults with the rule settings applied."""
    return load_policy(settings.policy_file, settings.dormancy_days,
                       reentry_after_days=settings.reentry_after.days,
                       no_response_cooloff_days=settings.no_response_cooloff.days)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (used by `dormant dev` and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
