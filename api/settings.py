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
from service.persistence.connect import START_WAIT

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

    # Each field's description is what `docs/reference/cli.md` says of its variable.
    database_url: str = Field(
        default="sqlite:///var/wht.sqlite",
        description="The store: sqlite:///PATH (relative to the working directory, created "
        "on first use) or postgresql://USER[:PASSWORD]@HOST:PORT/DB.",
    )

    @property
    def store_for_humans(self) -> str:
        """The store URL without its password, for messages and logs."""
        return redacted_url(self.database_url)

    store_start_wait: float = Field(
        default=START_WAIT,
        ge=0,
        description="Seconds a process starting waits for a PostgreSQL store that refuses it "
        "for a while (no free connection slot, starting up); any other refusal fails at once, "
        "naming the server's reason.",
    )
    cipher_key: str | None = Field(
        default=None,
        description="A base64 AES key (`wht keys cipher-key` prints one): when set, stored "
        "events are compressed and encrypted. Set it before the first event is stored, for "
        "every process, and never lose it.",
    )
    session_secret: str | None = Field(
        default=None,
        description="Signs the web pages' sign-in cookie (`wht keys session-secret` prints "
        "one). Unset: a random secret per process, so sessions end when the service "
        "restarts; set it when several servers share one sign-in.",
    )

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

    allowed_hosts: str = Field(
        default="",
        description="With no API key yet (open mode) the service answers only requests "
        "addressed to loopback names; these comma-separated names too.",
    )
    # Slow clients: api/serving.py.
    header_timeout: float = Field(
        default=10.0, gt=0, description="Seconds within which a request's headers must arrive."
    )
    body_timeout: float = Field(
        default=30.0, gt=0, description="Seconds within which a request's body must arrive."
    )
    max_connections: int = Field(
        default=1000, ge=1, description="Open connections past which a new one is closed at once."
    )
    # Alerts by webhook: docs/alerts.md.
    webhook_allow_hosts: str = Field(
        default="",
        description="Comma-separated hosts that webhook subscriptions may name although "
        "they are loopback, private or link-local, or over plain http (a receiver inside "
        "your own network). Any other destination must be https to a public address.",
    )
    notify_backoff_base: float = Field(
        default=1.0, description="Seconds before a failed delivery's first retry (then doubling)."
    )
    notify_backoff_cap: float = Field(
        default=60.0, description="The longest wait, in seconds, between two delivery attempts."
    )
    notify_retry_for: float = Field(
        default=24 * 60 * 60.0, description="Seconds for which a failed delivery is retried."
    )
    notify_timeout: float = Field(
        default=10.0, description="Seconds a webhook receiver has to answer one attempt."
    )
    notify_poll: float = Field(
        default=0.5, description="Seconds between the notifier's looks for work."
    )
    notify_sweep_every: float = Field(
        default=60.0,
        description="Seconds between sweeps of the programs for due dates "
        "(`due_soon`, `obligation_missed`).",
    )
    ready_max_lag: int = Field(
        default=1000,
        description="GET /readyz answers 503 while the regulator's read model is more than "
        "this many events behind the store.",
    )
    ingest_max_lag: int = Field(
        default=250,
        ge=0,
        description="With the read model projected in this process (`wht serve` without "
        "--no-projection): an ingest answers once the projection is at most this many events "
        "behind the store, waiting up to `ingest_lag_wait` seconds for it.",
    )
    ingest_lag_wait: float = Field(
        default=5.0,
        ge=0,
        description="The longest an ingest waits for the projection in its process "
        "(`ingest_max_lag`) before it answers anyway; 0 answers at once, and the read model "
        "may then fall behind a fast client.",
    )
    program_cache_size: int = Field(
        default=PROGRAM_CACHE_SIZE,
        ge=1,
        description="How many programs each process keeps in memory between requests (least "
        "recently used out first); a program not in memory is read back from the store.",
    )
