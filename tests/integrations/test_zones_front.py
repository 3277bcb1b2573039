"""The internet zone's portal front as its own process on loopback, no namespaces (issue 20 §2, docs/zones.md):
it holds no database URL or register key, forwards only the applicant's routes to the back office's front
channel, signed with its own key, and the channel refuses what did not come from it. The same flows run inside a
network namespace in test_zones_netns.py."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from support.zones import (
    FrontProcess,
    HostServer,
    applicant_journey,
    assert_forgeries_refused_by_channel,
    assert_navigation_lands_through_front,
    assert_staff_cannot_sign_in_at_front,
    assert_staff_routes_refused_at_front,
    front_secret_names,
    new_front_key,
    staff_token,
    start_front,
)

from app.federation.front_channel import FrontChannel, parse_keys


@dataclass
class Zones:
    channel: HostServer
    front: FrontProcess
    private_key: str
    back_office: Flask


@pytest.fixture
def zones(seeded: Flask) -> Iterator[Zones]:
    private, public = new_front_key()
    channel = HostServer(FrontChannel(seeded, parse_keys(public)))
    try:
        front = start_front(channel.url, private)
    except BaseException:
        channel.stop()
        raise
    try:
        yield Zones(channel, front, private, seeded)
    finally:
        front.stop()
        channel.stop()


def test_the_front_process_holds_no_register_secret(zones: Zones) -> None:
    held = zones.front.environment()
    assert "FRONT_SIGNING_KEY" in held
    assert not [name for name in front_secret_names() if name in held], sorted(held)


def test_applicant_journey_through_the_front(zones: Zones) -> None:
    applicant_journey(zones.front.url)


def test_staff_routes_are_not_forwarded(zones: Zones) -> None:
    assert_staff_routes_refused_at_front(zones.front.url, staff_token(zones.back_office))


def test_staff_cannot_sign_in_through_the_front(zones: Zones) -> None:
    assert_staff_cannot_sign_in_at_front(zones.front.url, staff_token(zones.back_office))


def test_link_navigation_lands_through_the_front(zones: Zones) -> None:
    assert_navigation_lands_through_front(zones.front.url, zones.back_office)


def test_the_channel_refuses_what_the_front_did_not_sign(zones: Zones) -> None:
    assert_forgeries_refused_by_channel(zones.channel.url, zones.private_key)
