"""Settings, read once from the environment (prefix WHT_) when a process starts.

`wht` builds one `Settings` as a command starts and hands it to the command; the app
factory (`api.app.create_app`) takes one, or builds it when none is given. Nothing
else reads the environment.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.application import PROGRAM_CACHE_SIZE

HIDDEN = "***"
MIN_SESSION_SECRET = 32


def redacted_url(url: str) -> str:
    """The store URL as it may be printed or logged: any password replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        netloc = f"{parts.username or ''}:{HIDDEN}@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # not even a URL: print nothing of it
        return HIDDEN


def redacted(text: str, url: str) -> str:
    """`text` (an error message, say) with the URL's password nowhere in it."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    text = text.replace(url, redacted_url(url))
    return text.replace(password, HIDDEN) if password else text


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHT_", extra="ignore")

    # WHT_DATABASE_URL: the store (sqlite:///PATH or postgresql://USER@HOST:PORT/DB).
    database_url: str = "sqlite:///var/wht.sqlite"

    @property
    def store_for_humans(self) -> str:
        """The store URL without its password, for messages and logs."""
        return redacted_url(self.database_url)

    # WHT_CIPHER_KEY: a base64 AES key (`wht keys cipher-key`): when set, stored events are
    # encrypted and compressed. Set it before the first event is stored, and never lose it.
    cipher_key: str | None = None
    # WHT_SESSION_SECRET: signs the web pages' sign-in cookie. Unset: a random secret per
    # process, so sessions end when the service restarts; set it when several servers
    # share one sign-in.
    session_secret: str | None = None

    @field_validator("session_secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        # A short secret lets a cookie be forged offline ('x' did): ask for 32 random
        # bytes' worth (`wht keys session-secret` prints one).
        if value is not None and len(value.strip()) < MIN_SESSION_SECRET:
            raise ValueError(
                f"WHT_SESSION_SECRET must be at least {MIN_SESSION_SECRET} characters of "
                "random text: `wht keys session-secret` prints one"
            )
        return value

    # WHT_ALLOWED_HOSTS: with no API key yet (open mode) the service answers only
    # requests addressed to loopback names; these comma-separated names too.
    allowed_hosts: str = ""
    # Slow clients (api/serving.py): a request's headers must arrive within
    # WHT_HEADER_TIMEOUT seconds and its body within WHT_BODY_TIMEOUT; past
    # WHT_MAX_CONNECTIONS open connections a new one is closed at once.
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)
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
    # WHT_READY_MAX_LAG: GET /readyz answers 503 while the regulator's read model is more
    # than this many events behind the store.
    ready_max_lag: int = 1000
    # WHT_PROGRAM_CACHE_SIZE: how many programs each process keeps in memory between
    # requests (least recently used out first). Memory grows with it (a program of 50
    # events holds its trail and its judged figures); a program not in memory is read
    # back from the store. At least 1: an unbounded cache would grow with the store.
    program_cache_size: int = Field(default=PROGRAM_CACHE_SIZE, ge=1)
