"""Headless Chromium for the report tests: Debian's ``chromium``, driven by playwright, offline.

Playwright (PyPI, in the ``dev`` extra) drives the browser through its own pipe protocol and
downloads nothing when pip installs it (browsers come only from ``playwright install``, which we
never run): it launches ``/usr/bin/chromium``, which ``.ci/run`` installs from Debian, through
``executable_path``, with a new, empty profile and every background service switched off. A page
opens from a ``file://`` URL; every request for anything else is aborted and recorded, so a report
that reaches for the network fails its test instead of waiting on a network this machine lacks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Route

#: Debian's package puts its launcher here; ``.ci/run`` installs it when missing.
CHROMIUM = Path("/usr/bin/chromium")
#: No sandbox (CI runs as root), no GPU, nothing that phones home; ``headless=True`` adds ``--headless``.
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    # Any host name the browser itself might look up resolves to nothing.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
VIEWPORT = {"width": 1100, "height": 900}
#: Console message types that fail a page: Chromium reports CSS, SVG and script problems as these.
FAILING_CONSOLE = frozenset({"error", "warning", "assert"})


@dataclass
class Visit:
    """What happened while one page was open: console messages, script errors, requests."""

    url: str
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    #: Requests for anything but a ``file://`` URL: each one was aborted.
    blocked: list[str] = field(default_factory=list)
    #: Every request the page made, its own document included.
    requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per console error or warning, uncaught script error and blocked request."""
        return (
            [f"console {message}" for message in self.console]
            + [f"page error: {error}" for error in self.page_errors]
            + [f"network request (blocked): {url}" for url in self.blocked]
        )


class Browser:
    """One running Chromium; :meth:`open` loads a file in a page of its own."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context

    @contextmanager
    def open(self, path: Path) -> Iterator[tuple[Page, Visit]]:
        """``path`` loaded from its ``file://`` URL, fonts ready, and what the load did."""
        page = self.context.new_page()
        visit = Visit(path.resolve().as_uri())

        def on_console(message: ConsoleMessage) -> None:
            if message.type in FAILING_CONSOLE:
                where = message.location
                visit.console.append(
                    f"{message.type}: {message.text} ({where.get('url')}:{where.get('lineNumber')})"
                )

        def on_request(request: Request) -> None:
            visit.requests.append(request.url)

        def only_files(route: Route) -> None:
            url = route.request.url
            if url.startswith("file://"):
                route.continue_()
            else:
                visit.blocked.append(url)
                route.abort("blockedbyclient")

        page.on("console", on_console)
        page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
        page.on("request", on_request)
        page.route("**/*", only_files)
        try:
            page.goto(visit.url, wait_until="load")
            page.evaluate("document.fonts.ready.then(() => true)")
            yield page, visit
        finally:
            page.close()


@contextmanager
def launch(root: Path) -> Iterator[Browser]:
    """Chromium started with a new, empty profile in the empty directory ``root``, stopped when
    the block ends. Its home, configuration and cache are there too (crash reports and GTK
    settings go to the home otherwise), so nothing is written outside ``root``.

    Raises :class:`LookupError` with the reason when playwright or Chromium is missing or the
    browser does not start, for the caller to skip or fail with.
    """
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as error:
        raise LookupError(f"playwright is not installed ({error})") from error
    if not os.access(CHROMIUM, os.X_OK):
        raise LookupError(f"{CHROMIUM} not found")
    home = root / "home"
    environment = os.environ | {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GSETTINGS_BACKEND": "memory",
    }
    with sync_playwright() as playwright:
        options: dict[str, Any] = {
            "executable_path": str(CHROMIUM),
            "env": environment,
            "headless": True,
            "args": list(ARGS),
            "viewport": VIEWPORT,
            "device_scale_factor": 1,
            "color_scheme": "light",
            "locale": "en-US",
            "timezone_id": "UTC",
            "service_workers": "block",
            # Two cores shared with a whole test suite: generous, so that load is not a failure.
            "timeout": 120_000,
        }
        try:
            context = playwright.chromium.launch_persistent_context(root / "profile", **options)
        except Error as error:
            raise LookupError(f"Chromium did not start: {error.message.splitlines()[0]}") from error
        context.set_default_timeout(120_000)
        try:
            yield Browser(context)
        finally:
            context.close()


def chart_clip(page: Page, index: int = 0) -> dict[str, float]:
    """The page's rectangle of its ``index``-th ``<svg>``, from the heading just before it (if any)
    down, with a margin: a picture of one chart for the docs."""
    clip: dict[str, float] = page.evaluate(
        """(index) => {
            const chart = document.querySelectorAll("svg")[index];
            const box = chart.getBoundingClientRect();
            const before = chart.previousElementSibling;
            const heading = before && /^H[1-6]$/.test(before.tagName) ? before.getBoundingClientRect() : box;
            const [left, top] = [box.left - 8, Math.min(box.top, heading.top) - 8];
            const [right, bottom] = [box.right + 8, box.bottom + 8];
            return {x: left + scrollX, y: top + scrollY, width: right - left, height: bottom - top};
        }""",
        index,
    )
    return clip


def rendered_problems(page: Page) -> list[str]:
    """One line per chart (``<svg>``) or table that is hidden, has no size, draws nothing or sticks
    out of the viewport's width, and one if the page scrolls sideways."""
    problems: list[str] = page.evaluate(
        """(width) => {
            const problems = [];
            const check = (element, name) => {
                const box = element.getBoundingClientRect();
                const shown = element.checkVisibility({visibilityProperty: true, opacityProperty: true});
                if (!shown) problems.push(`${name} is not visible`);
                const [w, h] = [box.width, box.height];
                if (!(w > 0 && h > 0)) problems.push(`${name} is ${w}×${h}`);
                if (box.left < 0 || box.right > width) {
                    problems.push(`${name} spans x ${box.left}–${box.right}`);
                }
            };
            document.querySelectorAll("svg").forEach((chart, index) => {
                const name = `chart ${index + 1} (${chart.querySelector("title")?.textContent})`;
                check(chart, name);
                const drawn = chart.getBBox();
                if (!(drawn.width > 0 && drawn.height > 0)) problems.push(`${name} draws nothing`);
            });
            document.querySelectorAll("table").forEach((table, index) => {
                const name = `table ${index + 1} (${table.querySelector("th")?.textContent})`;
                check(table, name);
                if (table.rows.length < 2) problems.push(`${name} has ${table.rows.length} rows`);
            });
            const scrolled = document.documentElement.scrollWidth;
            if (scrolled > width) problems.push(`the page is ${scrolled} px wide in a ${width} px window`);
            return problems;
        }""",
        VIEWPORT["width"],
    )
    return problems
