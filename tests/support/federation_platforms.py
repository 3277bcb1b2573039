"""Three platforms on loopback ports, each its own app and database: the national platform (000000), the province
浙江 (330000) and the city 杭州 (the worker's seeded app, 330100). National and province run on copies of the
seeded template (the same definitions; 张三 exists as a verified applicant at the national platform too). Trust
follows the levels: national ↔ province ↔ city; the national platform is no peer of the city.

Use ``three_platforms(seeded, base_database_url, database_templates, tmp_path)`` as a context manager from a
fixture (tests/integrations/test_federation_forward.py)."""
from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from app import create_app
from app.federation.client import signed_headers
from app.federation.peers import add_peer
from app.federation.signing import private_key, public_key_text
from support.databases import copy_database, drop, worker_database_url
from support.servers import LiveServer
from support.settings import make_settings

NATIONAL, PROVINCE, CITY = "000000", "330000", "330100"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class Platforms:
    national: Flask
    national_url: str
    national_key: Ed25519PrivateKey
    province: Flask
    province_url: str
    province_key: Ed25519PrivateKey
    city: Flask
    city_url: str

    def session(self, app: Flask) -> Any:
        return app.extensions["db"].unit_of_work()

    def post_signed(self, url: str, path: str, body: bytes, *, key: Ed25519PrivateKey, sender: str,
                    audience: str) -> httpx.Response:
        """A signed POST as a peer would send it (``body`` as the exact bytes signed)."""
        headers = signed_headers(key, sender=sender, audience=audience, method="POST", path=path, body=body)
        return httpx.post(url + path, content=body, timeout=30,
                          headers={**headers, "Content-Type": "application/json", "Accept": "application/json"})


def _platform(level: str, code: str, secret: str, url: str, tmp_path: Path, simulator_url: str) -> Flask:
    app = create_app(make_settings(url, tmp_path / code, platform_level=level, platform_code=code,
                                   federation_signing_key=secret, integrations_base_url=simulator_url))
    app.config["TESTING"] = True
    return app


@contextmanager
def three_platforms(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
                    tmp_path: Path) -> Iterator[Platforms]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    urls = {name: worker_database_url(base_database_url, worker, name) for name in ("national", "province")}
    for url in urls.values():
        drop(url)
        copy_database(database_templates["seeded"], url)
    simulator_url = seeded.config["SETTINGS"].integrations_base_url
    national_secret, province_secret = new_key(), new_key()
    national = _platform("national", NATIONAL, national_secret, urls["national"], tmp_path, simulator_url)
    province = _platform("province", PROVINCE, province_secret, urls["province"], tmp_path, simulator_url)
    national_live, province_live = LiveServer(national), LiveServer(province)
    city_settings = seeded.config["SETTINGS"]
    city_settings.platform_level, city_settings.platform_code = "city", CITY
    city_public = public_key_text(private_key(city_settings.federation_signing_key))
    national_public = public_key_text(private_key(national_secret))
    province_public = public_key_text(private_key(province_secret))
    with seeded.extensions["db"].unit_of_work() as session:
        add_peer(session, code=PROVINCE, name="浙江省", level="province", base_url=province_live.url,
                 public_key=province_public)
    with province.extensions["db"].unit_of_work() as session:
        add_peer(session, code=CITY, name="杭州市", level="city", base_url=seeded.config["LIVE_URL"],
                 public_key=city_public)
        add_peer(session, code=NATIONAL, name="全国平台", level="national", base_url=national_live.url,
                 public_key=national_public)
    with national.extensions["db"].unit_of_work() as session:
        add_peer(session, code=PROVINCE, name="浙江省", level="province", base_url=province_live.url,
                 public_key=province_public)
    try:
        yield Platforms(national, national_live.url, private_key(national_secret), province, province_live.url,
                        private_key(province_secret), seeded, seeded.config["LIVE_URL"])
    finally:
        for live in (national_live, province_live):
            live.stop()
        for app in (national, province):
            app.extensions["db"].engine.dispose()
        for url in urls.values():
            drop(url)
