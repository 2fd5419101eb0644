"""Who the client is: the peer address, or X-Forwarded-For when the peer is a trusted
proxy; and which clients are never blocked."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from .._http_types import RequestRecord

__all__ = ["ClientResolver", "NetworkSet"]

_CACHE_SIZE = 4096


class NetworkSet:
    """Membership of an address in a list of IPs/CIDRs, cached per address."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]
        self._cache: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, address: object) -> bool:
        if not self.networks or not isinstance(address, str):
            return False
        hit = self._cache.get(address)
        if hit is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                hit = False
            else:
                hit = any(ip in net for net in self.networks)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[address] = hit
        return hit


class ClientResolver:
    """The client address of a request.

    X-Forwarded-For is only believed when the peer is a trusted proxy; it is then walked
    from the right, skipping trusted proxies, and the first other address is the client.
    A malformed hop stops the walk there: everything left of it is client-controlled.
    """

    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self.trusted = NetworkSet(trusted_proxies)

    def resolve(self, record: RequestRecord) -> str | None:
        peer = record.client
        if not self.trusted or peer is None or peer not in self.trusted:
            return peer
        forwarded = record.header("x-forwarded-for")
        if not forwarded:
            return peer
        client = peer
        for raw_hop in reversed(forwarded[:2048].split(",")):
            hop = raw_hop.strip()
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return client
            client = hop
            if hop not in self.trusted:
                return hop
        return client
