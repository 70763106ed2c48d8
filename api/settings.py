"""Settings, read once from the environment (prefix WHT_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHT_", extra="ignore")

    database_url: str = "sqlite:///var/wht.sqlite"
    # Base64 AES key (`wht keys cipher-key`): when set, stored events are encrypted
    # and compressed. Set it before the first event is stored, and never lose it.
    cipher_key: str | None = None
