"""Which accounts the internet zone serves (issue 20 §2, docs/zones.md).

The portal front forwards the sign-in routes because applicants need them, but those routes are the staff's too.
Over the internet zone only the internet zone's users may sign in or use a session or token: applicants and
institution accounts (banks, developers, courts: organisations acting on their own applications). Office staff,
analysts, operators and administrators sign in on the staff listener only, so a password guess against a staff
account from the internet gets nowhere, and a staff credential that leaks to the internet is useless there.

The back office's front channel (app/federation/front_channel.py) marks every request it admits with the WSGI
environ key ``bdcdj.zone`` = ``internet``: a key no client header can set (headers arrive as ``HTTP_*``). A
request without the mark came over the staff listener and is not restricted here.

A refused sign-in answers exactly as a wrong password (or wrong code) does — no account enumeration — and is
audited (``user.sign_in_refused``, reason ``zone``); it is refused before the password is checked, so it neither
tells a right password from a wrong one nor counts towards the staff account's sign-in delays.
"""
from __future__ import annotations

import logging

from flask import has_request_context, request
from sqlalchemy.orm import Session

from app.identity.models import User
from app.security import audit

log = logging.getLogger(__name__)

ZONE_KEY = "bdcdj.zone"  # the WSGI environ key the front channel sets
INTERNET = "internet"
INTERNET_KINDS = frozenset({"applicant", "institution"})  # the accounts the internet zone serves
REFUSED_ACTION = "user.sign_in_refused"


def request_zone() -> str | None:
    """The zone this request came over (``internet`` through the front channel), or None (the staff listener,
    or no request at all: a script, a job)."""
    if not has_request_context():
        return None
    zone = request.environ.get(ZONE_KEY)
    return zone if isinstance(zone, str) else None


def serves(zone: str | None, kind: str | None) -> bool:
    """Whether an account of ``kind`` may sign in or act over ``zone``."""
    return zone != INTERNET or kind in INTERNET_KINDS


def sign_in_refused(session: Session, user: User, *, way: str) -> bool:
    """True when this request's zone does not serve ``user`` (the caller then answers as for a wrong password or
    code). ``way`` says which way in: ``password``, ``totp``, ``page``."""
    return _refused(session, user, way=way, what="sign-in")


def credential_refused(session: Session, user: User, *, way: str) -> bool:
    """True when this request's zone does not serve ``user``, whose page session or API token (``way``)
    came with it: the caller refuses it as an expired credential."""
    return _refused(session, user, way=way, what="credential")


def _refused(session: Session, user: User, *, way: str, what: str) -> bool:
    """Audited on the request's ``session`` in a way that stands although the request answers with an error
    (``audit.record_kept``), once per request and way in."""
    zone = request_zone()
    if serves(zone, user.kind):
        return False
    audit.record_kept(session, actor_id=None, action=REFUSED_ACTION, object_type="user", object_id=user.id,
                      tenant_id=user.tenant_id,
                      after={"reason": "zone", "zone": zone, "channel": way, "kind": user.kind})
    log.warning("refused a %s (%s) of a %s account over the %s zone", what, way, user.kind, zone)
    return True
