"""Which internet addresses the workbench may connect to on someone else's say-so.

Webhooks (and fetched pages) go to addresses that an admin or a web page
chose. Allowed only when globally routable, after unwrapping every IPv4
address an IPv6 address can carry to where its packets really go:
IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d),
IPv4-compatible (::a.b.c.d, deprecated: never allowed), NAT64's well-known
prefix (64:ff9b::/96) and its local-use prefix (64:ff9b:1::/48, RFC 8215:
never allowed, since its translator is someone's own network), 6to4
(2002::/16) and Teredo (2001::/32, both the server and the client).
Otherwise an address on loopback, a private network or a cloud's metadata
service (169.254.169.254) could be reached through a spelling that hides it.

Pure: the standard library's ipaddress, nothing else.
"""

from __future__ import annotations

import ipaddress

IPv4 = ipaddress.IPv4Address
IPv6 = ipaddress.IPv6Address

NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")
# Refused whatever this Python's table of special addresses says (its
# `is_global` has changed between releases): this host, private networks,
# shared address space, link-local, IETF protocol assignments, documentation,
# benchmarking, multicast and reserved.
NOT_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)


def carried_ipv4(ip: IPv6) -> list[IPv4]:
    """The IPv4 addresses an IPv6 address carries, where its packets are delivered."""
    carried: list[IPv4] = []
    if ip.ipv4_mapped is not None:
        carried.append(ip.ipv4_mapped)
    if ip in IPV4_TRANSLATED or ip in NAT64_WELL_KNOWN or ip in IPV4_COMPATIBLE:
        carried.append(IPv4(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        carried.append(ip.sixtofour)
    if ip.teredo is not None:
        carried.extend(ip.teredo)
    return carried


def public_address(address: str) -> bool:
    """Whether connecting to this IP address reaches the public internet, and only it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv6):
        if ip in NAT64_LOCAL_USE or ip in IPV4_COMPATIBLE or ip in SITE_LOCAL:
            return False
        carried = carried_ipv4(ip)
        if carried:
            # The packets go to the IPv4 address: it decides.
            return all(public_address(str(v4)) for v4 in carried)
    if isinstance(ip, IPv4) and any(ip in network for network in NOT_PUBLIC_V4):
        return False
    return ip.is_global and not ip.is_multicast
