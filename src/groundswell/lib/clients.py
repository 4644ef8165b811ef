"""Where a request comes from: one answer for consent records, clicks, the audit log
and sign-in limits alike."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from ipaddress import IPv6Network, ip_address
from typing import Any

from django.conf import settings
from django.http import HttpRequest

_acting_from: ContextVar[str | None] = ContextVar("groundswell_acting_from", default=None)


# The longest address worth reading: an IPv6 address with an IPv4 tail and a zone.
_LONGEST_ADDRESS = 64
# The TRUSTED_PROXIES that _read_kept's answers were found with.
_kept_for: list[Any] = []


def _read(address: str) -> tuple[str | None, bool]:
    """An address as given by the server or a header: as Python spells it (None when
    it is none), and whether it is one of TRUSTED_PROXIES'."""
    if len(address) > _LONGEST_ADDRESS:
        return None, False
    proxies = settings.TRUSTED_PROXIES
    if not _kept_for or _kept_for[0] is not proxies:
        _read_kept.cache_clear()
        _kept_for[:] = [proxies]
    return _read_kept(address)


@lru_cache(maxsize=4096)
def _read_kept(address: str) -> tuple[str | None, bool]:
    # Kept: the proxy's address comes with every request, and a client's with each of
    # its clicks and pages (parsing one cost more than the rest of a click's record).
    try:
        ip = ip_address(address)
    except ValueError:
        return None, False
    return str(ip), any(ip in network for network in _kept_for[0])


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: the connection's, unless it comes from one of
    TRUSTED_PROXIES; then the last address in X-Forwarded-For that is not itself a
    trusted proxy (each proxy appends the address it was reached from, so only the
    right-hand end was written by ours: anything to its left the client may have
    made up). A malformed entry there is no address at all (None)."""
    return client_address_in(request.META)


def client_address_in(meta: Mapping[str, Any]) -> str | None:
    """client_address, from a request's META or a WSGI environ (which is what META is)."""
    remote = meta.get("REMOTE_ADDR") or None
    if remote is None or not settings.TRUSTED_PROXIES or not _read(remote)[1]:
        return remote
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        spelled, trusted = _read(hop)
        if not trusted:
            return spelled
    return remote


def network_of(address: str | None) -> str:
    """The unit a limit or the trust page counts: an IPv4 address as it is, an IPv6
    address as its /64 network (one household, phone or server usually holds a whole
    /64 and can pick any address in it). Empty for no or a malformed address."""
    if not address:
        return ""
    try:
        ip = ip_address(address)
    except ValueError:
        return ""
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(IPv6Network((ip, 64), strict=False))


@contextmanager
def acting_from(request: HttpRequest) -> Iterator[None]:
    """While a staff page runs: where the staff user is, for the audit entries its
    actions write (members.actions.audit.record_audit reads it)."""
    reset = _acting_from.set(client_address(request))
    try:
        yield
    finally:
        _acting_from.reset(reset)


def acting_address() -> str | None:
    """The address of the staff user whose page is running, if one is."""
    return _acting_from.get()
