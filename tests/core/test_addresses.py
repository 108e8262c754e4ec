"""One rule for the addresses webhooks (and fetched pages) may reach: public ones only,
however an IPv4 address is spelt or wrapped inside an IPv6 one."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.core.addresses import public_address
from annotations.webhooks.client import AddressRefused, _vetted_connection

# Where no webhook may go: this host, private networks, shared address space,
# link-local (a cloud's metadata service), documentation, benchmarking,
# multicast and reserved ranges.
INSIDE = [
    ipaddress.IPv4Network(n)
    for n in (
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
]

inside_v4 = st.sampled_from(INSIDE).flatmap(
    lambda net: st.integers(int(net.network_address), int(net.broadcast_address)).map(
        ipaddress.IPv4Address
    )
)
public_v4 = (
    st.integers(0, 2**32 - 1)
    .map(ipaddress.IPv4Address)
    .filter(lambda ip: ip.is_global and not ip.is_multicast)
)


def v6(value: int) -> str:
    return str(ipaddress.IPv6Address(value))


def spellings(v4: ipaddress.IPv4Address, noise: int) -> list[str]:
    """The IPv6 spellings that deliver to `v4`, in the compressed and the full form."""
    n = int(v4)
    low = noise & 0xFFFF_FFFF_FFFF_FFFF
    forms = [
        f"::ffff:{v4}",  # IPv4-mapped, dotted
        v6((0xFFFF << 32) | n),  # IPv4-mapped, hex
        f"0:0:0:0:0:ffff:{v4}",
        f"::ffff:0:{v4}",  # IPv4-translated (SIIT)
        f"64:ff9b::{v4}",  # NAT64, well-known prefix
        v6((0x2002 << 112) | (n << 80) | low),  # 6to4
        # Teredo: the client's address inverted in the last 32 bits.
        v6((0x2001 << 112) | (0x0808_0808 << 64) | ((noise & 0xFFFF) << 32) | (n ^ 0xFFFF_FFFF)),
        # Teredo: the server in bits 32-63.
        v6((0x2001 << 112) | (n << 64) | (low & 0xFFFF_FFFF)),
    ]
    return [*forms, *(ipaddress.IPv6Address(f).exploded for f in forms)]


@given(inside_v4, st.integers(0, 2**64 - 1))
def test_an_address_inside_is_refused_however_it_is_wrapped(v4, noise):
    assert not public_address(str(v4))
    for spelling in spellings(v4, noise):
        assert not public_address(spelling), spelling


@given(public_v4, st.integers(0, 2**64 - 1))
def test_a_public_address_is_allowed_in_the_wrappings_that_deliver_to_it(v4, noise):
    assert public_address(str(v4))
    n = int(v4)
    for spelling in (f"::ffff:{v4}", f"64:ff9b::{v4}", v6((0x2002 << 112) | (n << 80) | 1)):
        assert public_address(spelling), spelling


@given(st.one_of(inside_v4, public_v4), st.integers(0, 2**80 - 1))
def test_ipv4_compatible_and_local_use_nat64_addresses_are_never_allowed(v4, noise):
    # ::a.b.c.d is deprecated and routes nowhere; 64:ff9b:1::/48 is translated by
    # someone's own NAT64, with the IPv4 address at any of several positions.
    assert not public_address(f"::{v4}")
    local_use = (0x0064_FF9B_0001 << 80) | (noise & ((1 << 80) - 1))
    assert not public_address(v6(local_use))
    assert not public_address(f"64:ff9b:1::{v4}")


@pytest.mark.parametrize(
    "address",
    [
        "::127.0.0.1",  # the hostile test's IPv4-compatible loopback
        "64:ff9b:1::a9fe:a9fe",  # the hostile test's local-use NAT64 metadata service
        "64:ff9b::a9fe:a9fe",
        "::1",
        "::",
        "fe80::1%eth0",
        "fec0::1",
        "fc00::1",
        "ff02::1",
        "2001:db8::1",
    ],
)
def test_the_probes_that_got_through_are_refused(address):
    assert not public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert public_address(address)


@pytest.mark.parametrize(
    "host", ["127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1", "::ffff:7f00:1", "localhost"]
)
def test_every_spelling_of_loopback_is_refused_when_connecting(host, settings):
    # The check is made on the address the name resolves to, as it is connected.
    settings.WORKBENCH_WEBHOOK_PRIVATE_ADDRESSES = False
    try:
        socket.getaddrinfo(host, 80)
    except socket.gaierror:
        pytest.skip(f"{host} does not resolve on this machine")
    with pytest.raises(AddressRefused, match="private or reserved"):
        _vetted_connection((host, 80), timeout=1)
