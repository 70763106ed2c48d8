"""Where alerts may be sent: never inside the service's own network, unless named.

A subscription's URL is chosen by its caller, a provider's key among them, and the
service POSTs to it and reports each attempt's outcome: without a check, a key could
aim it at 127.0.0.1:5432 or any private address and read what answers there (issue 23,
item 7). So a destination must be `https`, and its host must not resolve to a
loopback, private, link-local, unspecified, multicast or reserved address, unless the
operator names the host in WHT_WEBHOOK_ALLOW_HOSTS (then `http` to it is allowed too).
The check runs when a subscription is made (422) and again before every delivery
attempt, since what a name resolves to can change (a name that does not resolve yet
may be subscribed; an attempt to it is refused until it resolves).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
# The form of a webhook URL: http(s), a host, no spaces (the OpenAPI document states it).
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00/?#]+([/?#][^\s\x00]*)?$"


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (what a connection to it may reach)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port)})


def inside(address: str) -> bool:
    """Whether an address is not a public one: loopback, private, link-local,
    unspecified, reserved, shared or multicast (an IPv4-mapped IPv6 address as its
    IPv4 address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # `is_global` is false for loopback, private, link-local, unspecified, reserved and
    # shared (carrier-grade NAT) ranges alike; multicast is refused besides.
    return not ip.is_global or ip.is_multicast


def host_names(text: str) -> frozenset[str]:
    """WHT_WEBHOOK_ALLOW_HOSTS: comma-separated host names or addresses."""
    return frozenset(name.strip().lower().strip("[]") for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class Destinations:
    """The rule for webhook URLs: `allowed` hosts may be anything, over http or https."""

    allowed: frozenset[str] = field(default_factory=frozenset)
    resolver: Resolver = resolve

    @classmethod
    def allowing(cls, hosts: Iterable[str] | str) -> Destinations:
        names = host_names(hosts) if isinstance(hosts, str) else frozenset(hosts)
        return cls(names)

    def refusal(self, url: str, *, unresolved_ok: bool = False) -> str | None:
        """Why alerts may not go to `url`, or None when they may. A host that does not
        resolve (yet) is refused only without `unresolved_ok`: a subscription may name
        it, and each delivery attempt checks it again."""
        if re.fullmatch(URL_PATTERN, url) is None:
            return "an http:// or https:// URL with a host"
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "an http:// or https:// URL with a host"
        if parts.scheme not in ("http", "https") or not host:
            return "an http:// or https:// URL with a host"
        if host in self.allowed:
            return None
        if parts.scheme != "https":
            return "https, or http to a host named in WHT_WEBHOOK_ALLOW_HOSTS"
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            return None if unresolved_ok else f"{host} does not resolve"
        if any(inside(a) for a in addresses):
            return (
                f"{host} is a loopback, private, link-local or unspecified address; "
                "name it in WHT_WEBHOOK_ALLOW_HOSTS to allow it"
            )
        return None
