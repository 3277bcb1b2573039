"""No full ID number in a URL, and the payment gateway sends browsers back only to the platform (issue 14 §2).

Found before: the workbench inbox filter was a GET form (``/workbench/?applicant_id_number=110105…``), so
the number landed in address bars, history and access logs; the API inbox took it as a query parameter; the
payment ``return_url`` accepted any site.
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.demo import LI_SI
from app.identifiers import make_id_card


def test_the_workbench_inbox_searches_by_id_number_without_putting_it_in_a_url(page_login: Any,
                                                                                 submitted_transfer: dict) -> None:
    clerk = page_login("xh_acceptor")
    resp = clerk.post_form("/workbench/", {"tab": "claimable", "applicant_id_number": LI_SI["id_number"]})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert LI_SI["id_number"] not in location and LI_SI["id_number"][:14] not in location
    token = parse_qs(urlsplit(location).query)["applicant"][0]
    page = clerk.get(location).get_data(as_text=True)
    assert submitted_transfer["business_no"] in page and LI_SI["id_number"] not in page
    assert f'name="applicant" value="{token}"' in page  # the next search keeps the filter, still as a token
    other = make_id_card("330106", date(1970, 1, 1), 77)
    stranger = clerk.post_form("/workbench/", {"tab": "claimable", "applicant_id_number": other})
    assert submitted_transfer["business_no"] not in clerk.get(stranger.headers["Location"]).get_data(as_text=True)
    # The old GET form's parameter is no longer read: an ID number typed into a URL filters nothing.
    ignored = clerk.get(f"/workbench/?tab=claimable&applicant_id_number={other}")
    assert submitted_transfer["business_no"] in ignored.get_data(as_text=True)


def test_the_api_inbox_refuses_an_id_number_in_the_query(login: Any, submitted_transfer: dict) -> None:
    clerk = login("xh_acceptor")
    in_url = clerk.get("/api/v1/tasks", query_string={"tab": "claimable", "applicant_id_number": LI_SI["id_number"]})
    assert in_url.status_code == 422
    found = clerk.post("/api/v1/tasks/search", json={"tab": "claimable", "applicant_id_number": LI_SI["id_number"]})
    assert found.status_code == 200 and found.get_json()["total"] == 1
    token = found.get_json()["applicant"]
    assert clerk.get("/api/v1/tasks", query_string={"tab": "claimable", "applicant": token}).get_json()["total"] == 1
    bad = clerk.get("/api/v1/tasks", query_string={"tab": "claimable", "applicant": "not-a-token"})
    assert bad.status_code == 422


def test_payment_return_url_only_to_the_platform_origin(seeded: Any, login: Any, submitted_transfer: dict) -> None:
    buyer = login("lisi")
    path = f"/api/v1/applications/{submitted_transfer['id']}/payment"
    for foreign in ("https://evil.example/phish", "http://127.0.0.1:5001/x", "https://127.0.0.1:5000/x"):
        resp = buyer.post(path, json={"return_url": foreign})
        assert resp.status_code == 422, (foreign, resp.get_json())
        assert resp.get_json()["code"] == "return_url_foreign"
    own = seeded.config["SETTINGS"].public_base_url.rstrip("/") + f"/my/applications/{submitted_transfer['id']}/paid"
    resp = buyer.post(path, json={"return_url": own})
    assert resp.get_json().get("code") != "return_url_foreign", resp.get_json()
