"""Where a delivery may go: in production, only to public addresses over HTTPS.

A name that resolves to a public address at registration may resolve to a private one
later (DNS rebinding), so the worker resolves it again before each try, checks every
address, and connects to the address it checked (the name still goes in ``Host`` and
in TLS's SNI, so the certificate is checked against the name). In development any
address and plain HTTP are allowed, so tests and local receivers run on loopback.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_SECONDS = 5.0


class EndpointRefused(Exception):  # noqa: N818 - names the verdict
    """The endpoint may not receive deliveries; the message says why."""


def public(address: IpAddress) -> bool:
    """Routable on the internet: not loopback, private, link-local, shared, reserved."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str, *, production: bool) -> httpx.URL:
    """The URL parsed, if its form is acceptable (scheme, host, no credentials)."""
    try:
        parsed = httpx.URL(url)
        parsed.netloc.decode("ascii")
    except (httpx.InvalidURL, ValueError) as error:
        raise EndpointRefused(f"not a URL: {error}") from error
    schemes = ("https",) if production else ("https", "http")
    if parsed.scheme not in schemes:
        raise EndpointRefused(f"the scheme must be {' or '.join(schemes)}")
    if not parsed.host:
        raise EndpointRefused("the URL names no host")
    if parsed.userinfo:
        raise EndpointRefused("the URL may not carry credentials")
    if parsed.fragment:
        raise EndpointRefused("the URL may not carry a fragment")
    return parsed


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to (itself, if it is an address)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise EndpointRefused(f"{host} does not resolve: {error}") from error
    except TimeoutError as error:
        raise EndpointRefused(f"{host} does not resolve within {RESOLVE_SECONDS} s") from error
    found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Destination:
    """Where to connect (an address checked) and what to tell the server (the name)."""

    url: httpx.URL
    host: str
    host_header: str

    @property
    def sni_hostname(self) -> str | None:
        return None if _literal(self.host) is not None else self.host


async def destination(url: str, *, production: bool) -> Destination:
    """The URL with its host resolved and checked; refused in production if not public."""
    parsed = check_url(url, production=production)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = await resolve(parsed.host, port)
    if not addresses:
        raise EndpointRefused(f"{parsed.host} resolves to no address")
    if production:
        refused = [str(a) for a in addresses if not public(a)]
        if refused:
            raise EndpointRefused(
                f"{parsed.host} resolves to an address that is not public ({', '.join(refused)})"
            )
    return Destination(
        url=parsed.copy_with(host=str(addresses[0])),
        host=parsed.host,
        host_header=parsed.netloc.decode("ascii"),
    )
