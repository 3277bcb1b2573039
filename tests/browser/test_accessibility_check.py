"""The axe-core check on every page the browser tests load cannot silently check nothing: a page with known
serious and critical violations, served by a route of its own context, is reported with rule, impact and
targets, and a second page of the same kind is not checked again."""
from __future__ import annotations

from typing import Any

from browser_fixtures import open_context
from support.accessibility import AxeChecker, page_kind

FAULTY = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>有缺陷的页面</title></head>
<body><main><h1>有缺陷的页面</h1>
<button id="nameless"></button>
<input id="unlabelled" type="text">
</main></body></html>"""


def test_page_kinds_ignore_identifiers_and_query_values() -> None:
    case = "0123456789abcdef0123456789abcdef"
    assert page_kind(f"http://h/my/applications/{case}/steps/form?tab=a&x=1", 200) == \
        "200 /my/applications/:id/steps/form?tab&x"
    assert page_kind("http://h/workbench/cases/BDC2026000123", 404) == "404 /workbench/cases/BDC#"
    assert page_kind("http://h/invite/eyJpbnYiOiI3ZmQ.axSL4g.WQHT5H2mjKatg", 200) == "200 /invite/:id"
    assert page_kind("http://h/x/steps/material-title_certificate", 200) == "200 /x/steps/material-title_certificate"
    assert page_kind("http://h/admin/designer/mortgage_first", 200) == "200 /admin/designer/:code"
    assert page_kind("http://h/admin/forms/seizure_application", 200) == "200 /admin/forms/:code"
    assert page_kind("http://h/workbench/?tab=claimable", 200, phone=True) == "200 /workbench/?tab phone"


def test_a_page_with_known_violations_is_reported_once_per_kind(browser: Any, axe_check: AxeChecker) -> None:
    context = open_context(browser, "http://axe-probe.test")
    context.route("**/*", lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                                      body=FAULTY))
    page = context.new_page()
    page.goto("/probe/1")
    context.close()  # lets the check under way finish first

    found, errors = axe_check.take()
    assert errors == []
    assert {(v.rule, v.impact, v.targets) for v in found} == {
        ("button-name", "critical", ("#nameless",)), ("label", "critical", ("#unlabelled",))}
    assert {v.url for v in found} == {"http://axe-probe.test/probe/1"}
    assert {v.kind for v in found} == {"200 /probe/#"} and "200 /probe/#" in axe_check.checked

    again = open_context(browser, "http://axe-probe.test")
    again.route("**/*", lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                                    body=FAULTY))
    again.new_page().goto("/probe/2")
    again.close()
    assert axe_check.take() == ([], [])
