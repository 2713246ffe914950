"""One settings object for every process (API, worker, CLI), read from `WENDU_*` variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-in-production"
TASK_QUEUE = "wendu"


def default_home() -> Path:
    return Path(os.environ.get("WENDU_HOME") or Path.home() / ".wendu")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WENDU_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # Everything a single-machine install keeps: SQLite database, Temporal file, models.
    data_dir: Path = Field(default_factory=default_home)
    # Empty means the SQLite file in data_dir.
    database_url: str = ""
    # Empty means `wendu up` runs the embedded Temporal dev server.
    temporal_address: str = ""
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    # The rule folder loaded at start; empty means the rules already stored.
    rules_dir: Path | None = None
    templates_dir: Path | None = None
    secret_key: str = DEFAULT_SECRET
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Where people reach the console, e.g. "https://hr.example.com": every link in a message
    # (a task's page, the inbox) starts with it, so it opens from WeCom or a mail client.
    # Empty means the API's own address (api_host and api_port).
    public_url: str = ""
    # How long a fired rule may stay un-started before the reconciler retries it.
    firing_retry_seconds: float = 5.0

    # Input limits, checked before anything is stored: a request body over max_body_bytes
    # gets 413; a text field (JSON string or form field) over max_text_bytes of UTF-8 gets 422
    # naming it. A fired rule's workflow input (plan and context) over
    # max_workflow_input_bytes is refused at ingest with 422: Temporal refuses payloads over
    # its blob size limit (2 MiB by default), and a firing it refuses would never run.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_text_bytes: int = Field(default=64 * 1024, ge=1)
    max_workflow_input_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Comma-separated addresses or networks (e.g. "10.0.0.5,10.1.0.0/16") of reverse proxies
    # whose X-Forwarded-For / X-Forwarded-Proto are believed; "" trusts no one, so the
    # client address the login throttle and the audit log see is the connection's own.
    trusted_proxies: str = ""
    # An event about an employee id no employee.* event has announced: "accept" stores and
    # folds it (its result says `unknown_employee`; GET /api/v1/events?status=unknown_employee
    # lists it until the employee arrives); "reject" refuses its batch with 422.
    unknown_employees: Literal["accept", "reject"] = "accept"
    # How old an event may be when it arrives and still fire an event rule (a rule's
    # `max_age:` overrides it): older ones fold into the profile and fire nothing, their
    # result says `stale`, so backfilled history notifies no one. A duration, or "off".
    max_event_age: str = "3d"

    # Delivery channels. Each is offered to rules only when configured (see `*_configured`).
    # WeCom (企业微信) self-built app: corp id, the app's secret and agent id; token and
    # EncodingAESKey of its callback URL (button clicks on task cards).
    wecom_corp_id: str = ""
    wecom_secret: str = ""
    wecom_agent_id: int | None = None
    wecom_token: str = ""
    wecom_aes_key: str = ""
    wecom_base_url: str = "https://qyapi.weixin.qq.com"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = ""
    smtp_reply_to: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    # Deliveries still failing after this many activity attempts are recorded as failed (the
    # activity's own retry policy lowers it when it allows fewer).
    delivery_max_attempts: int = 10
    # Notification policy (a rule's `policy:` overrides it). Quiet hours are in each
    # recipient's own time zone; "" means none. The daily cap counts non-urgent rule messages
    # per recipient per local day; what exceeds it goes into the next day's digest; 0: no cap.
    quiet_hours: str = "21:00-08:00"
    daily_cap: int = Field(5, ge=0)
    # How task due dates, reminders and escalations count days (rules.workdays): "cn" the
    # China calendar with its holidays and make-up workdays, "mon-fri", or "off" (every day).
    # Quiet hours hold through the calendar's public holidays.
    work_calendar: Literal["cn", "mon-fri", "off"] = "cn"

    @field_validator("public_url")
    @classmethod
    def _absolute_public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"WENDU_PUBLIC_URL must start with http:// or https://, not {value!r}")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_window(cls, value: str) -> str:
        from wendu.rules.policy import parse_quiet_hours

        parse_quiet_hours(value)  # its PolicyError names the bad value
        return value

    @field_validator("max_event_age")
    @classmethod
    def _max_event_age(cls, value: str) -> str:
        from wendu.rules.freshness import max_age_problem

        problem = max_age_problem(value)
        if problem:
            raise ValueError(f"WENDU_MAX_EVENT_AGE: {problem}")
        return value

    @property
    def max_event_age_seconds(self) -> int | None:
        """The default freshness window in seconds; None when off."""
        from wendu.rules.freshness import parse_max_age

        return parse_max_age(self.max_event_age)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "WENDU_SECRET_KEY must be set to a secret of your own in production"
            )
        if self.environment == "production" and self.webhook_url and not self.webhook_secret:
            raise ValueError("WENDU_WEBHOOK_SECRET must be set when WENDU_WEBHOOK_URL is")
        return self

    @property
    def wecom_configured(self) -> bool:
        return bool(self.wecom_corp_id and self.wecom_secret and self.wecom_agent_id)

    @property
    def wecom_callback_configured(self) -> bool:
        return bool(self.wecom_corp_id and self.wecom_token and self.wecom_aes_key)

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

    @property
    def webhook_configured(self) -> bool:
        return bool(self.webhook_url)

    @property
    def public_base_url(self) -> str:
        """`public_url`, or the API's own address when none is set."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::", "") else self.api_host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.api_port}"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'wendu.db'}"

    @property
    def templates_path(self) -> Path:
        if self.templates_dir:
            return self.templates_dir
        from wendu import templates

        return Path(templates.__file__).parent


@lru_cache
def get_settings() -> Settings:
    return Settings()
