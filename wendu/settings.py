"""One settings object for every process (API, worker, CLI), read from `WENDU_*` variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
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
    # How long a fired rule may stay un-started before the reconciler retries it.
    firing_retry_seconds: float = 5.0

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "WENDU_SECRET_KEY must be set to a secret of your own in production"
            )
        return self

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
