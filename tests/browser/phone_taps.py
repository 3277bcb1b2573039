"""Issue 17's measure on a 360×740 phone: an applicant's taps (clicks, ticks, file choices, strokes on the
signature pad — counted in one place) and the pages seen on the way (each at most 150 KB of HTML, no sideways
scroll, photographed). Shared by the step-by-step test (张三) and the two new people's sale (周杰 → 赵敏)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_fixtures import open_context
from test_portal_journey import draw_signature

PHONE = {"width": 360, "height": 740}
MAX_TAPS = 30
MAX_PAGE_BYTES = 150 * 1024


def phone_page(browser: Any, live_server: str) -> Any:
    """A fresh phone (its own browser context: its own cookies, as another person's phone)."""
    return open_context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True).new_page()


class Tapper:
    """One person's phone: every tap on the shortest path goes through here and is counted; each page
    visited is photographed (``shots``/NN-name.png) and weighed."""

    def __init__(self, page: Any, shots: Path) -> None:
        self.page, self.shots, self.taps, self.pages = page, shots, 0, 0

    def tap(self, selector: str) -> None:
        self.taps += 1
        self.page.click(selector)

    def tick(self, selector: str) -> None:
        self.taps += 1
        self.page.check(selector)

    def choose_file(self, selector: str, path: Path) -> None:
        self.taps += 1
        self.page.set_input_files(selector, str(path))

    def sign(self) -> None:
        self.taps += 1  # one stroke of the finger on the pad
        draw_signature(self.page)

    def seen(self, name: str) -> None:
        self.pages += 1
        html = self.page.content()
        assert len(html.encode()) <= MAX_PAGE_BYTES, f"{name}: {len(html.encode())} bytes"
        assert self.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1, name
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{self.pages:02d}-{name}.png"), full_page=True)


def progress(page: Any) -> tuple[int, int]:
    text = page.locator("#step-count").inner_text()  # 第 n 步，共 m 步
    n, m = text.removeprefix("第 ").removesuffix(" 步").split(" 步，共 ")
    return int(n), int(m)
