"""The allow-list of the internet zone: the only routes the portal front forwards, and the only routes the back
office's front channel accepts (issue 20 §2, docs/zones.md).

The portal front (app/portal_front.py) runs in the internet zone with no database and no register keys; it
reaches the back office only through these routes, which are the applicant's own: sign-up and sign-in, the guide,
applications, materials, signing, 补正, payment, progress and tracking, the applicant's own certificates and their
public verification, 无房证明 (the city's and the province-wide one), appointments, the arrival of link navigation
from an upper platform (``/federation/arrive``) and the national entrance's pages. The workbench, the admin
skin, the platforms' federation endpoints, the
institutions' and departments' APIs, unit queries, callbacks, health and readiness probes and anything not listed
here are refused at the front (404) and, should a request get past it, again at the channel. Both ends import
this one list, so they cannot drift apart. It is checked on the path alone (no query string), after the path was
normalised: a path holding ``..``, ``//``, a backslash or a percent-encoded slash is refused outright.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_ID = r"[A-Za-z0-9_.\-]+"  # one path segment: an id, a code, a token (never a slash)


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]


def _route(methods: str, path: str) -> Route:
    regex = re.escape(path).replace(re.escape("<id>"), _ID).replace(re.escape("<rest>"), r"[A-Za-z0-9_.\-/]+")
    return Route(frozenset(methods.split()), re.compile(f"^{regex}$"))


GET, POST, BOTH = "GET HEAD", "POST", "GET HEAD POST"

ALLOWED: tuple[Route, ...] = (
    # pages: home, information, guide
    _route(GET, "/"), _route(GET, "/info"), _route(GET, "/terms"),
    _route(GET, "/guide/<id>"), _route(GET, "/guide/<id>/contract.pdf"), _route(GET, "/guide/<id>/process.bpmn"),
    # the portal's own stylesheets, scripts and images (never the admin or viewer bundles: staff tools)
    _route(GET, "/static/<rest>"),
    # sign-up, sign-in (password, SMS, second factor), sign-out, the applicant's account
    _route(BOTH, "/signup"), _route(BOTH, "/login"), _route(BOTH, "/login/sms"), _route(BOTH, "/login/totp"),
    _route(POST, "/logout"), _route(GET, "/account/security"), _route(POST, "/account/security/totp"),
    _route(POST, "/account/security/totp/confirm"), _route(BOTH, "/account/verify"),
    _route(BOTH, "/account/verify/face"), _route(BOTH, "/account/organisation"),
    # applying, the applicant's applications (materials, forms, signing, 补正, payment, progress), certificates
    _route(BOTH, "/apply/<id>"), _route(GET, "/apply/<id>/steps"), _route(BOTH, "/apply/<id>/steps/<id>"),
    _route(GET, "/my/applications"), _route(BOTH, "/my/applications/<id>"),
    _route(BOTH, "/my/applications/<id>/<id>"), _route(BOTH, "/my/applications/<id>/<id>/<id>"),
    _route(POST, "/my/applications/<id>/materials/<id>/delete"),
    _route(GET, "/my/certificates/<id>"), _route(BOTH, "/my/no-property"), _route(GET, "/my/units"),
    _route(BOTH, "/track"), _route(GET, "/invite/<id>"), _route(BOTH, "/feedback/<id>"),
    _route(GET, "/verify/<id>"),
    _route(BOTH, "/appointments"), _route(POST, "/appointments/<id>/cancel"), _route(POST, "/appointments/<id>/rating"),
    # the applicant API (docs/api.md): token, business types, own applications, appointments, certificates
    _route(POST, "/api/v1/auth/token"),
    _route(GET, "/api/v1/business-types"), _route(GET, "/api/v1/business-types/<id>"),
    _route("GET HEAD POST", "/api/v1/applications"),
    _route("GET HEAD PATCH", "/api/v1/applications/<id>"),
    _route(POST, "/api/v1/applications/<id>/confirm"), _route(POST, "/api/v1/applications/<id>/submit"),
    _route(BOTH, "/api/v1/applications/<id>/consents"), _route("PATCH", "/api/v1/applications/<id>/fields"),
    _route("GET HEAD PUT", "/api/v1/applications/<id>/inquiry"),
    _route(POST, "/api/v1/applications/<id>/invitations"),
    _route(POST, "/api/v1/applications/<id>/materials"),
    _route("DELETE", "/api/v1/applications/<id>/materials/<id>"),
    _route(GET, "/api/v1/applications/<id>/notices"), _route(GET, "/api/v1/applications/<id>/notices/<id>"),
    _route(BOTH, "/api/v1/applications/<id>/payment"), _route(GET, "/api/v1/applications/<id>/progress"),
    _route(BOTH, "/api/v1/applications/<id>/proposals"),
    _route(POST, "/api/v1/applications/<id>/proposals/<id>/accept"),
    _route(POST, "/api/v1/applications/<id>/proposals/<id>/decline"),
    _route(BOTH, "/api/v1/applications/<id>/rating"),
    _route(BOTH, "/api/v1/appointments"), _route(GET, "/api/v1/appointments/slots"),
    _route(POST, "/api/v1/appointments/<id>/cancel"),
    _route(GET, "/api/v1/certificates/<id>/pdf"), _route(GET, "/api/v1/certificates/verify"),
    _route(POST, "/api/v1/certificates/no-property"),
    _route(BOTH, "/api/v1/powers-of-attorney"), _route(POST, "/api/v1/powers-of-attorney/<id>/revoke"),
    # issue 20's applicant pages: link navigation from an upper platform lands here (the signed identity
    # assertion is verified by the back office, as on any listener: docs/federation.md); the national
    # entrance and its cross-level applications (404 below the national level); the province-wide 无房证明
    _route(BOTH, "/federation/arrive"),
    _route(GET, "/national"), _route(POST, "/national/go"), _route(GET, "/national/apply"),
    _route(BOTH, "/national/apply/<id>"), _route(GET, "/national/my"),
    _route(BOTH, "/my/province-no-property"), _route(POST, "/api/v1/certificates/province-no-property"),
)

# Never forwarded even where a pattern above would match: staff tools' bundles, and the staff-only actions that
# share a prefix with an applicant's (window check-in, the day's list, paper consents recorded by a clerk).
REFUSED_PREFIXES = ("/static/admin/", "/static/viewer/")
REFUSED = (
    _route("GET HEAD POST PUT PATCH DELETE", "/api/v1/appointments/day"),
    _route("GET HEAD POST PUT PATCH DELETE", "/api/v1/appointments/check-in"),
)

_UNSAFE = re.compile(r"(^|/)\.\.?(/|$)|//|\\|%2f|%5c|%2e", re.IGNORECASE)


def is_allowed(method: str, path: str) -> bool:
    """Whether the internet zone may send ``method path`` (the path without its query string) to the back
    office. Anything unusual in the path is refused rather than interpreted."""
    if not path.startswith("/") or _UNSAFE.search(path) or any(c in path for c in "\r\n\0"):
        return False
    if path.startswith(REFUSED_PREFIXES):
        return False
    method = method.upper()
    if any(method in r.methods and r.pattern.match(path) for r in REFUSED):
        return False
    return any(method in r.methods and r.pattern.match(path) for r in ALLOWED)
