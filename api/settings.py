"""Settings, read once from the environment (prefix WHT_) when a process starts.

`wht` builds one `Settings` as a command starts and hands it to the command; the app
factory (`api.app.create_app`) takes one, or builds it when none is given. Nothing
else reads the environment.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHT_", extra="ignore")

    # WHT_DATABASE_URL: the store (sqlite:///PATH or postgresql://USER@HOST:PORT/DB).
    database_url: str = "sqlite:///var/wht.sqlite"
    # WHT_CIPHER_KEY: a base64 AES key (`wht keys cipher-key`): when set, stored events are
    # encrypted and compressed. Set it before the first event is stored, and never lose it.
    cipher_key: str | None = None
    # WHT_SESSION_SECRET: signs the web pages' sign-in cookie. Unset: a random secret per
    # process, so sessions end when the service restarts; set it when several servers
    # share one sign-in.
    session_secret: str | None = None
    # WHT_READY_MAX_LAG: GET /readyz answers 503 while the regulator's read model is more
    # than this many events behind the store.
    ready_max_lag: int = 1000
