"""Settings, read once from the environment (prefix WHT_) when a process starts.

`wht` builds one `Settings` as a command starts and hands it to the command; the app
factory (`api.app.create_app`) takes one, or builds it when none is given. Nothing
else reads the environment.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.application import PROGRAM_CACHE_SIZE

HIDDEN = "***"


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
    # WHT_PROGRAM_CACHE_SIZE: how many programs each process keeps in memory between
    # requests (least recently used out first). Memory grows with it (a program of 50
    # events holds its trail and its judged figures); a program not in memory is read
    # back from the store. At least 1: an unbounded cache would grow with the store.
    program_cache_size: int = Field(default=PROGRAM_CACHE_SIZE, ge=1)
