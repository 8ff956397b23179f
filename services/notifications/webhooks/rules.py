"""Webhook delivery as plain rules: where a webhook may point, when to try again, what a
response means. No I/O here; the dispatcher resolves hosts and sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance metadata services: the classic SSRF prize (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200"))
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.internal"})


class Refusal(StrEnum):
    metadata = "metadata_address"
    loopback = "loopback_address"
    private = "private_address"
    link_local = "link_local_address"
    not_global = "non_public_address"


def refused_address(address: IPAddress) -> Refusal | None:
    """Why a webhook may not be sent to ``address`` (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return Refusal.metadata
    if address.is_loopback or address.is_unspecified:
        return Refusal.loopback
    if address.is_link_local:
        return Refusal.link_local
    if address.is_private:
        return Refusal.private
    if not address.is_global or address.is_multicast or address.is_reserved:
        return Refusal.not_global
    return None


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks allowed although not public (development and tests)."""

    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        hosts: set[str] = set()
        networks = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress | None = None) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return address is not None and any(address in network for network in self.networks)


def url_problem(url: str) -> tuple[str, str] | None:
    """(rule, detail) if ``url`` cannot be a webhook URL at all, before any name is resolved."""
    if len(url) > 2000:
        return "max_length", "a webhook URL has at most 2000 characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "url", "not a valid URL"
    if parts.scheme not in ("https", "http"):
        return "scheme", "a webhook URL is https:// (or http:// for development)"
    if not parts.hostname:
        return "host", "a webhook URL names a host"
    if parts.username or parts.password:
        return "credentials", "a webhook URL carries no user name or password; the signature authenticates"
    if parts.fragment:
        return "fragment", "a webhook URL has no #fragment"
    if port == 0:
        return "port", "port 0 is not a port"
    if parts.hostname.lower().rstrip(".") in METADATA_HOSTS:
        return Refusal.metadata.value, "the cloud metadata service is never a webhook target"
    return None


def host_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def addresses_problem(host: str, addresses: Iterable[IPAddress], allow: AllowList) -> tuple[str, str] | None:
    """(rule, detail) if any address ``host`` resolves to is refused and not allow-listed.

    Every address counts: a name that resolves to one public and one private address could
    be steered to the private one.
    """
    found = list(addresses)
    if not found:
        return "resolvable", f"{host} does not resolve to any address"
    for address in found:
        refusal = refused_address(address)
        if refusal is not None and not allow.allows(host, address):
            return refusal.value, f"{host} resolves to {address}, a {refusal.value.replace('_', ' ')}"
    return None


# --- retries -----------------------------------------------------------------------------

class Outcome(StrEnum):
    delivered = "delivered"
    retry = "retry"
    gone = "gone"            # 410: the receiver says the endpoint no longer exists; disable it
    exhausted = "exhausted"  # no retries left


def outcome_of(status_code: int | None, attempts: int, schedule: tuple[float, ...]) -> Outcome:
    """What an attempt's result means. ``attempts`` counts this one; ``status_code`` is None for no answer."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome.delivered
    if status_code == 410:
        return Outcome.gone
    if attempts > len(schedule):
        return Outcome.exhausted
    return Outcome.retry


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def next_attempt_at(now: datetime, attempts: int, schedule: tuple[float, ...], *, jitter: float,
                    retry_after: float | None, max_retry_after: float,
                    random: Callable[[], float]) -> datetime:
    """When to try again after the ``attempts``-th failed attempt.

    Exponential-ish back-off from the schedule, spread by ±``jitter`` so receivers that come
    back are not hit by every sender at once; a Retry-After is honoured when it asks for more
    (up to ``max_retry_after``), never to retry sooner than the schedule.
    """
    base = schedule[min(attempts - 1, len(schedule) - 1)]
    delay = base * (1 + jitter * (2 * random() - 1))
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_retry_after))
    return now + timedelta(seconds=delay)


def should_disable(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    """An endpoint that has not once succeeded for ``disable_after`` is disabled."""
    return failing_since is not None and now - failing_since >= disable_after


def overlap_active(previous_until: datetime | None, now: datetime) -> bool:
    return previous_until is not None and now < previous_until
