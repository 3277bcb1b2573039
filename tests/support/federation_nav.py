"""Three platforms for link navigation and definition packages (issue 20): the national entrance (000000), the
province 浙江 (330000) and the city 杭州 (330100, the worker's seeded app on its loopback port). National and
province are apps of their own, each on its own copy of a database template, served on their own loopback ports;
each platform trusts the public keys of the ones it talks to, nothing else is shared.

A person's browser is one ``httpx.Client`` per platform (the platforms share the host 127.0.0.1, and a cookie is
not kept apart by port), which is what distinct hosts give a real browser.
"""
from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from app import create_app
from app.federation.peers import add_peer
from app.federation.signing import private_key, public_key_text
from support.databases import copy_database, drop, worker_database_url
from support.personas import PASSWORD
from support.servers import LiveServer
from support.settings import make_settings

NATIONAL, PROVINCE, CITY, OTHER_CITY = "000000", "330000", "330100", "330200"
NAMES = {NATIONAL: "全国网上一窗办事平台", PROVINCE: "浙江省", CITY: "杭州市", OTHER_CITY: "宁波市"}
LEVELS = {NATIONAL: "national", PROVINCE: "province", CITY: "city", OTHER_CITY: "city"}


@dataclass
class Platform:
    app: Flask
    url: str
    code: str
    key: Ed25519PrivateKey

    def unit_of_work(self) -> Any:
        return self.app.extensions["db"].unit_of_work()

    def browser(self) -> httpx.Client:
        """A browser's view of this platform (its own cookies)."""
        return httpx.Client(base_url=self.url, timeout=15)


@dataclass
class Federation:
    national: Platform
    province: Platform
    city: Platform


@contextmanager
def extra_platform(name: str, code: str, *, template: str, base_database_url: str,
                   database_templates: dict[str, str], tmp_path: Path) -> Iterator[Platform]:
    """A platform app of level ``LEVELS[code]`` on its own copy of ``template``, served on a loopback port."""
    url = worker_database_url(base_database_url, os.environ.get("PYTEST_XDIST_WORKER", "main"), name)
    drop(url)
    copy_database(database_templates[template], url)
    secret = base64.b64encode(os.urandom(32)).decode()
    application = create_app(make_settings(url, tmp_path / name, platform_level=LEVELS[code], platform_code=code,
                                           federation_signing_key=secret))
    application.config["TESTING"] = True
    live = LiveServer(application)
    try:
        yield Platform(application, live.url, code, private_key(secret))
    finally:
        live.stop()
        application.extensions["db"].engine.dispose()
        drop(url)


def trust(holder: Platform, other: Platform) -> None:
    """``holder`` adds ``other`` to its peers (code, level, address, public key)."""
    with holder.app.app_context(), holder.unit_of_work() as session:
        add_peer(session, code=other.code, name=NAMES[other.code], level=LEVELS[other.code], base_url=other.url,
                 public_key=public_key_text(other.key))


def city_platform(seeded: Flask) -> Platform:
    """The worker's seeded app as 杭州 (its settings are put back after the test)."""
    settings = seeded.config["SETTINGS"]
    settings.platform_level, settings.platform_code = "city", CITY
    return Platform(seeded, seeded.config["LIVE_URL"], CITY, private_key(settings.federation_signing_key))


@contextmanager
def three_platforms(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
                    tmp_path: Path) -> Iterator[Federation]:
    """National and province on copies of the ``seeded`` template (the business types, the demo applicant 张三
    verified), the city the worker's app; national ↔ province ↔ city trust each other's keys."""
    city = city_platform(seeded)
    with extra_platform("national", NATIONAL, template="seeded", base_database_url=base_database_url,
                        database_templates=database_templates, tmp_path=tmp_path) as national, \
            extra_platform("province", PROVINCE, template="seeded", base_database_url=base_database_url,
                           database_templates=database_templates, tmp_path=tmp_path) as province:
        trust(national, province)
        trust(province, national)
        trust(province, city)
        trust(city, province)
        yield Federation(national, province, city)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def sign_in(browser: httpx.Client, username: str, password: str = PASSWORD) -> None:
    """Sign in with the password form (the demo accounts have one)."""
    page = browser.get("/login")
    answer = browser.post("/login", data={"username": username, "password": password,
                                          "csrf_token": csrf_token(page.text)})
    assert answer.status_code == 302, answer.text[:300]


def hop_form(html: str) -> tuple[str, dict[str, str]]:
    """The auto-submitted form of a navigation hop: where it posts and its hidden fields."""
    action = re.search(r'<form method="post" action="([^"]+)" data-hop>', html)
    assert action, html[:800]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    return action.group(1), fields
