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
    # Alerts by webhook (docs/alerts.md): retries back off from WHT_NOTIFY_BACKOFF_BASE
    # seconds, doubling up to WHT_NOTIFY_BACKOFF_CAP, for WHT_NOTIFY_RETRY_FOR seconds; the
    # notifier looks for work every WHT_NOTIFY_POLL seconds and sweeps programs for due
    # dates every WHT_NOTIFY_SWEEP_EVERY seconds.
    notify_backoff_base: float = 1.0
    notify_backoff_cap: float = 60.0
    notify_retry_for: float = 24 * 60 * 60.0
    notify_timeout: float = 10.0
    notify_poll: float = 0.5
    notify_sweep_every: float = 60.0
