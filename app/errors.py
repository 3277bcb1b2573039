"""Typed domain errors: every failure a user can act on is a value with a code and a Chinese message.

Skins render these once (RFC 7807 JSON in the API, an HTML message in pages); unknown exceptions never
leak their text to clients.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of all errors a user can act on. ``status`` is the HTTP status a skin should use."""

    status: int = 400
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.errors: dict[str, Any] = dict(errors or {})
        if field and field not in self.errors:
            self.errors[field] = [message]

    def problem_fields(self) -> dict[str, Any]:
        """Members the problem body carries besides type/title/status/detail/code/errors."""
        return {}


class ValidationFailed(DomainError):
    """Input does not satisfy a schema or identifier rule; ``errors`` maps field → list of messages."""

    status = 422
    code = "validation_failed"


class RuleRefused(ValidationFailed):
    """A registration rule of the register book (DOMAIN.md §2.2) refuses the case. The problem body names
    the first refusing rule (``rule``) and its legal basis (``basis``), and lists every refusal (``rules``).
    ``refusals`` are ``RuleResult.as_dict()`` items (code, severity, message, basis)."""

    status = 422
    code = "rule_blocked"

    def __init__(self, message: str, *, refusals: list[dict[str, str]], code: str | None = None,
                 errors: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=code, errors=errors)
        self.refusals = refusals

    def problem_fields(self) -> dict[str, Any]:
        first = self.refusals[0] if self.refusals else {}
        return {"rule": first.get("code"), "basis": first.get("basis"),
                "rules": [{k: r[k] for k in ("code", "basis", "message")} for r in self.refusals]}


class Conflict(DomainError):
    """The request collides with the current state (task already completed, concurrent update …)."""

    status = 409
    code = "conflict"


class RuleRefusedInOffice(RuleRefused, Conflict):
    """A rule refuses a step of a case already in the office (受理, 登簿): the register changed under it, or a
    consent is still unchecked — a conflict with the current state (409), with the rule and its basis."""

    status = 409


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class AuthenticationRequired(DomainError):
    status = 401
    code = "unauthenticated"


class TooManyRequests(DomainError):
    """A rate limit refused the request (e.g. verification codes per phone); ``message`` says when to retry."""

    status = 429
    code = "rate_limited"
    retry_after: int | None = None  # seconds until the limit lets the next request through, when known


class DefinitionError(DomainError):
    """A definition file (BPMN, form, checklist, business.yaml) is invalid; ``location`` says where."""

    status = 422
    code = "definition_invalid"

    def __init__(self, message: str, *, file: str | None = None, element: str | None = None,
                 line: int | None = None, code: str | None = None) -> None:
        self.file, self.element, self.line = file, element, line
        where = ", ".join(p for p in (
            file or "",
            f"元素 {element}" if element else "",
            f"第 {line} 行" if line else "",
        ) if p)
        super().__init__(f"{where}：{message}" if where else message, code=code)
        self.reason = message
