"""Settings, read once from the environment (prefix WHT_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHT_", extra="ignore")

    database_url: str = "sqlite:///var/wht.sqlite"
