"""axe-core over the pages the browser tests load (issue 17: zero serious or critical violations).

Every context opened through ``browser_fixtures.open_context`` is watched: on each page's ``load`` event the
bundled axe-core (axe-playwright-python ships axe.min.js, nothing is downloaded) is injected and run, and the
serious and critical violations are recorded; the ``axe_check`` fixture fails the test that loaded the page.

Cost: axe takes from a tenth of a second to a few seconds on a page, and the suite loads ~600 pages, so each
*page kind* is checked once per worker: the path with identifiers replaced (digit runs, 32-hex ids, uuids,
long tokens, business-type and form codes), the names of its query parameters, the document's response status
and whether the page has its phone layout. A check cut short (the test navigated away or closed the context
while axe ran) records nothing and leaves the kind to its next load, so the check never makes a test flaky and
never passes a page it did not finish.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Error as PlaywrightError

KEPT_IMPACTS = ("serious", "critical")

# Parts of a page axe does not look at (selector -> reason). Only third-party DOM we cannot change belongs here;
# none is needed today: bpmn-js' canvas and the properties panel of the designer pass at serious and critical.
EXCLUDED: dict[str, str] = {}

# app.css lays pages out for a phone below this width (tables scroll, the menu folds): a page kind of its own.
PHONE_MEDIA = "(max-width: 640px)"

# Where the page is and whether it is an HTML document (a PDF or an image opened in a tab is not checked).
_PROBE = """phoneMedia => ({
  url: location.href,
  status: performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0,
  phone: matchMedia(phoneMedia).matches,
  document: performance.timeOrigin,
  html: document.contentType === 'text/html',
  injected: typeof window.axe !== 'undefined',
})"""

# One evaluation in the document probed (its time origin is its own): after a navigation the evaluation would
# land in the next document, whose own check may be running axe already, so it gives up there (null). Frames
# are not entered (axe would wait for an answer from frames it was not injected into); the app has none.
_RUN = """async ({exclude, impacts, phoneMedia, probed}) => {
  if (performance.timeOrigin !== probed) return null;
  const results = await axe.run({exclude}, {resultTypes: ['violations'], iframes: false});
  return {
    url: location.href,
    status: performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0,
    phone: matchMedia(phoneMedia).matches,
    violations: results.violations.filter(v => impacts.includes(v.impact)).map(v => ({
      rule: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.map(n => n.target.flat(Infinity).join(' ')),
    })),
  };
}"""

# A whole segment that is an identifier: 32-hex ids, uuids, signed tokens (long, with digits, e.g. an invitation).
_WHOLE_ID = re.compile(r"^(?:[0-9a-f]{16,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|(?=.*\d)[\w.-]{20,})$", re.I)
_DIGITS = re.compile(r"\d+")

# Business-type and form codes name the same pages with other data (eleven designers, guides, applications):
# one of each page is checked, not one per type.
_DEFINITIONS = Path(__file__).resolve().parents[2]
_CODES = frozenset([p.name for p in (_DEFINITIONS / "processes").iterdir() if p.is_dir()]
                   + [p.stem for p in (_DEFINITIONS / "forms").glob("*.json")])

# How Playwright says the page went away under a check (navigation, closed page or context, a run abandoned
# with its document, or axe busy in the next document): the check is cut short, not failed. Any other error is
# the checker's or axe's own fault.
_GONE = re.compile(r"context was destroyed|has been closed|target closed|detached|cannot find context|"
                   r"promise was collected|navigat|axe is already running", re.I)


def page_kind(url: str, status: int, phone: bool = False) -> str:
    """What makes two loads the same page for the check: ``200 /my/applications/:id/steps/form`` (identifiers,
    business-type and form codes and numbers replaced, query values dropped, their names kept; `` phone`` below
    app.css's phone width), so a case's tenth page is not checked again."""
    parts = urlsplit(url)
    segments = [":id" if _WHOLE_ID.match(seg) else ":code" if seg in _CODES else _DIGITS.sub("#", seg)
                for seg in parts.path.split("/")]
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{status} {'/'.join(segments)}" + (f"?{'&'.join(names)}" if names else "") + (" phone" if phone else "")


@dataclass(frozen=True)
class Violation:
    kind: str
    url: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}) on {self.url} [{self.kind}]: {self.help}\n    " + "\n    ".join(
            self.targets)


class AxeChecker:
    """Checks each page kind once per worker; ``take()`` hands over what was found since the last call."""

    def __init__(self, excluded: dict[str, str] | None = None) -> None:
        self.exclude = [[selector] for selector in (EXCLUDED if excluded is None else excluded)]
        self.checked: dict[str, float] = {}  # page kind -> seconds its check took
        self.cut_short: set[str] = set()  # kinds whose check a navigation or a close cut short at least once
        self.seconds = 0.0
        self._running: set[str] = set()
        self._in_flight = 0
        self._pages: list[Any] = []
        self._found: list[Violation] = []
        self._errors: list[str] = []

    def watch(self, context: Any) -> None:
        """Check the pages ``context`` opens from now on (new pages and popups alike). Its ``close`` first lets
        the checks under way finish: most tests close their contexts right after their last page has loaded,
        and a check cut short there would leave that page unchecked in every run."""
        context.on("page", self._watch_page)
        close = context.close

        def close_when_checked(*args: Any, **kwargs: Any) -> None:
            self.settle()
            close(*args, **kwargs)

        context.close = close_when_checked

    def _watch_page(self, page: Any) -> None:
        self._pages.append(page)
        page.on("load", self._check)
        page.on("close", self._forget_page)

    def _forget_page(self, page: Any) -> None:
        self._pages.remove(page)

    def _check(self, page: Any) -> None:
        # Runs in Playwright's event greenlet while the test goes on. A page that went away under axe (navigation,
        # closed context) leaves its kind to the next load; any other fault fails the test rather than silently
        # leaving a page unchecked.
        self._in_flight += 1
        started = time.perf_counter()
        kind = ""
        try:
            probe = page.evaluate(_PROBE, PHONE_MEDIA)
            kind = page_kind(probe["url"], probe["status"], probe["phone"])
            if not probe["html"] or kind in self.checked or kind in self._running:
                kind = ""
                return
            self._running.add(kind)
            if not probe["injected"]:
                page.evaluate(AXE_SCRIPT)
            result = page.evaluate(_RUN, {"exclude": self.exclude, "impacts": list(KEPT_IMPACTS),
                                          "phoneMedia": PHONE_MEDIA, "probed": probe["document"]})
            if result is None:
                self.cut_short.add(kind)
                return
            done = page_kind(result["url"], result["status"], result["phone"])
            self.checked[done] = time.perf_counter() - started
            self._found.extend(Violation(done, result["url"], v["rule"], v["impact"], v["help"], tuple(v["targets"]))
                               for v in result["violations"])
        except Exception as exc:
            if isinstance(exc, PlaywrightError) and _GONE.search(exc.message):
                if kind:
                    self.cut_short.add(kind)
            else:
                self._errors.append(f"axe check of {kind or page.url} failed: {exc!r}")
        finally:
            self._running.discard(kind)
            self._in_flight -= 1
            self.seconds += time.perf_counter() - started

    def settle(self, cap_s: float = 30.0) -> None:
        """Let checks under way finish: Playwright delivers their answers only while the test's greenlet waits in
        a Playwright call, so this waits in short ones on an open page until none is in flight (``cap_s`` bounds
        a hung page; a check still running then records nothing)."""
        deadline = time.monotonic() + cap_s
        while self._in_flight and time.monotonic() < deadline:
            open_pages = [p for p in self._pages if not p.is_closed()]
            if not open_pages:
                return
            try:
                open_pages[0].wait_for_timeout(20)
            except PlaywrightError:
                return

    def take(self) -> tuple[list[Violation], list[str]]:
        found, errors = self._found, self._errors
        self._found, self._errors = [], []
        return found, errors


def report(found: list[Violation], errors: list[str]) -> str:
    lines = [f"axe-core: {len(found)} serious/critical accessibility violation(s)"] + [str(v) for v in found]
    return "\n".join(lines + errors)
