"""Helpers shared by the data-sharing tests: drafting a transfer without identity, contract or tax uploads."""
from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from support.cases import make_application_forms
from support.forms import PDF, transfer_form
from support.personas import Api


def draft_transfer(seller: Api, buyer: Api, **overrides: Any) -> str:
    """A confirmed 张三 → 李四 draft with only the materials no department can provide uploaded."""
    created = seller.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                        "form": transfer_form(**overrides)})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    for code in created.get_json()["materials_missing"]:
        resp = seller.post(f"/api/v1/applications/{case_id}/materials",
                           data={"code": code, "file": (io.BytesIO(PDF), f"{code}.pdf")},
                           content_type="multipart/form-data")
        assert resp.status_code == 201, resp.get_json()
    assert seller.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert buyer.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    make_application_forms(buyer.client.application)  # the 申请书, made after the last signature's commit
    return case_id


def verifications(api: Api, case_id: str) -> dict[str, Any]:
    resp = api.get(f"/api/v1/applications/{case_id}/verifications")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()  # type: ignore[no-any-return]


def interface_row(app: Any, code: str, **changes: Any) -> None:
    """Change an interface's policy (timeout, retries, breaker) as an operator would."""
    from sqlalchemy import select

    from app.integrations.models import Interface

    with app.extensions["db"].unit_of_work() as session:
        iface = session.execute(select(Interface).where(Interface.code == code)).scalar_one()
        for key, value in changes.items():
            setattr(iface, key, value)


def draft_mortgage(login: Any) -> tuple[Api, str]:
    """张三 mortgages his 西湖区 flat …0103 to the demo bank: created, uploads, both confirm (not submitted)."""
    from support.forms import upload_missing

    from app.demo import BANK
    from app.identifiers import make_unit_code

    owner, bank = login("zhangsan"), login("bank")
    form = {"unit_code": make_unit_code("330106", 1, 1, "GB", 100, 1, 103), "use": "住宅",
            "cert_no": "浙(2015)西湖区不动产权第0000003号", "mortgagee_name": BANK["name"],
            "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押", "debt_amount": 900_000,
            "debt_start": "2026-12-01", "debt_end": "2046-11-30", "transfer_restricted": False,
            "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "contract_no": "DY2026-0100"}
    created = owner.post("/api/v1/applications", json={"business_type": "mortgage_first", "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(owner, case_id)
    for api in (owner, bank):
        assert api.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    make_application_forms(owner.client.application)
    return owner, case_id


HOLD_LIMIT_S = 60  # a bound so a broken build fails instead of hanging; the tests never wait for it


class GongAnGate:
    """WSGI middleware in front of a simulator: a 公安 request announces it has arrived, then waits until the
    test releases it — the department is "slow" exactly as long as the test needs, with no clock involved.
    ``first_only`` holds the first 公安 request alone and lets the others through."""

    def __init__(self, wsgi_app: Any, *, first_only: bool = False) -> None:
        self.wsgi_app = wsgi_app
        self.first_only = first_only
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith("/gongan/"):
            with self._lock:
                first = not self.arrived.is_set()
                self.arrived.set()
            if first or not self.first_only:
                self.release.wait(HOLD_LIMIT_S)
        return self.wsgi_app(environ, start_response)


@contextmanager
def gongan_behind_a_gate(seeded: Any, *, first_only: bool = False) -> Iterator[GongAnGate]:
    """公安 served by its own simulator behind a ``GongAnGate``; the interface row points there."""
    from support.servers import LiveServer

    from simulator import SimulatorConfig, create_simulator_app

    config = SimulatorConfig(api_key=os.environ["SIMULATOR_API_KEY"],
                             tax_callback_secret=os.environ["TAX_CALLBACK_SECRET"],
                             payment_callback_secret=os.environ["PAYMENT_CALLBACK_SECRET"])
    gate = GongAnGate(create_simulator_app(config), first_only=first_only)
    server = LiveServer(gate)
    interface_row(seeded, "gongan", base_url=server.url, timeout_ms=(HOLD_LIMIT_S + 5) * 1000, max_retries=0)
    try:
        yield gate
    finally:
        gate.release.set()
        server.stop()
