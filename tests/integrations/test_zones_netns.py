"""Zone isolation with Linux network namespaces (issue 20 §2, docs/zones.md): the portal front runs inside its
own namespace — the internet zone — linked to the root namespace (the extranet: the back office and PostgreSQL)
by one veth pair. From inside, the register database cannot be reached (neither PostgreSQL on the extranet's
loopback nor on the link's address) and neither can the back office's staff listener; only the back office's
front channel on the link is, and through it the applicant's journey works end to end while staff routes are 404
and requests the front did not sign are refused. Skips with the reason where namespaces cannot be made (not root,
no iproute2); test_zones_front.py runs the same flows as plain processes."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from flask import Flask
from support.zones import (
    FrontProcess,
    HostServer,
    InternetZone,
    applicant_journey,
    assert_forgeries_refused_by_channel,
    assert_navigation_lands_through_front,
    assert_staff_cannot_sign_in_at_front,
    assert_staff_routes_refused_at_front,
    front_secret_names,
    namespaces_unavailable,
    new_front_key,
    staff_token,
    start_front,
)

from app.federation.front_channel import FrontChannel, parse_keys

POSTGRES_PORT = 5432


@dataclass
class Deployment:
    zone: InternetZone
    channel: HostServer
    front: FrontProcess
    private_key: str
    staff_url: str
    database_url: str
    back_office: Flask


@pytest.fixture
def deployment(seeded: Flask) -> Iterator[Deployment]:
    """The internet zone's namespace; the back office's front channel on the extranet side of its link; the portal
    front inside, listening on the internet side (the test, an applicant, reaches it over the link)."""
    why_not = namespaces_unavailable()
    if why_not:
        pytest.skip(f"no network namespaces here: {why_not}")
    zone = InternetZone.create()
    channel: HostServer | None = None
    front: FrontProcess | None = None
    try:
        private, public = new_front_key()
        channel = HostServer(FrontChannel(seeded, parse_keys(public)), host=zone.extranet_address)
        front = start_front(channel.url, private, host=zone.internet_address, netns=zone.name)
        yield Deployment(zone, channel, front, private, seeded.config["LIVE_URL"],
                         seeded.config["SETTINGS"].database_url, seeded)
    finally:
        if front is not None:
            front.stop()
        if channel is not None:
            channel.stop()
        zone.destroy()


def test_the_internet_zone_cannot_reach_the_register_database(deployment: Deployment) -> None:
    zone = deployment.zone
    assert zone.can_connect(zone.extranet_address, deployment.channel.port)  # the control: the link works
    assert not zone.can_connect("127.0.0.1", POSTGRES_PORT)  # the namespace's own loopback: no database there
    assert not zone.can_connect(zone.extranet_address, POSTGRES_PORT)  # PostgreSQL across the link: refused
    database = urlsplit(deployment.database_url.replace("+psycopg", ""))
    if database.scheme.startswith("postgresql"):  # this run's own register database, wherever it is
        assert not zone.can_connect(database.hostname or "127.0.0.1", database.port or POSTGRES_PORT)
    staff = urlsplit(deployment.staff_url)  # the back office's own listener (workbench, admin) on the extranet
    assert not zone.can_connect(staff.hostname or "127.0.0.1", staff.port or 80)
    held = deployment.front.environment()
    assert not [name for name in front_secret_names() if name in held], sorted(held)


def test_applicant_journey_across_the_zones(deployment: Deployment) -> None:
    applicant_journey(deployment.front.url)


def test_staff_routes_stop_at_the_internet_zone(deployment: Deployment) -> None:
    assert_staff_routes_refused_at_front(deployment.front.url, staff_token(deployment.back_office))
    assert_staff_cannot_sign_in_at_front(deployment.front.url, staff_token(deployment.back_office))


def test_link_navigation_lands_across_the_zones(deployment: Deployment) -> None:
    assert_navigation_lands_through_front(deployment.front.url, deployment.back_office)


def test_the_channel_refuses_what_the_front_did_not_sign(deployment: Deployment) -> None:
    assert_forgeries_refused_by_channel(deployment.channel.url, deployment.private_key)


def test_with_the_link_filtered_only_the_channel_port_is_reachable(deployment: Deployment) -> None:
    """An extranet service bound to every address is reachable over the link until it is filtered: the reason
    production needs the firewall rule of docs/zones.md. Filtered, only the channel's port is left, and the front
    still serves the applicant."""
    zone = deployment.zone
    with socket.create_server(("0.0.0.0", 0)) as decoy:  # e.g. a monitoring agent listening on all addresses
        decoy_port = decoy.getsockname()[1]
        assert zone.can_connect(zone.extranet_address, decoy_port)
        zone.restrict(channel_port=deployment.channel.port, front_port=int(urlsplit(deployment.front.url).port or 0))
        assert not zone.can_connect(zone.extranet_address, decoy_port)
    assert zone.can_connect(zone.extranet_address, deployment.channel.port)
    answer = httpx.get(deployment.front.url + "/api/v1/business-types", trust_env=False, timeout=30)
    assert answer.status_code == 200, answer.text
