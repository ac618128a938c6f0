"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, for the browser tests and screenshots.

Pages must work offline (the project draws mara's charts with Chart.js, app/ui/static/charts), so every
request that leaves the app's server is refused and recorded: a test sees it in `page.problems`.
"""

import contextlib
import dataclasses

CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run']


@dataclasses.dataclass
class PageProblems:
    """What went wrong in a page: console errors, uncaught exceptions, refused external requests."""
    console_errors: list = dataclasses.field(default_factory=list)
    page_errors: list = dataclasses.field(default_factory=list)
    external_requests: list = dataclasses.field(default_factory=list)

    def all(self) -> list:
        return self.console_errors + self.page_errors


@contextlib.contextmanager
def chromium():
    """A headless Chromium browser (Playwright's own browser download is not used)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, base_url: str, width: int = 1400, height: int = 900, email: str | None = None):
    """A page in a fresh browser context, with its problems collected in `page.problems`.

    With `email`, every request carries it in the header that a login proxy sets (production, app/access.py).
    """
    from app import config
    headers = {config.email_http_header(): email} if email else {}
    context = browser.new_context(viewport={'width': width, 'height': height}, base_url=base_url,
                                  extra_http_headers=headers)
    page = context.new_page()
    problems = PageProblems()
    page.on('console', lambda message: problems.console_errors.append(message.text)
            if message.type == 'error' else None)
    page.on('pageerror', lambda error: problems.page_errors.append(str(error)))

    def refuse(route):
        problems.external_requests.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(base_url), refuse)
    page.problems = problems
    return page


def chart_points(page, container: str) -> int:
    """How many data points the Chart.js chart in `container` (a CSS selector) shows; 0 when there is none."""
    return page.evaluate("""container => {
        const canvas = document.querySelector(container + ' canvas');
        const chart = canvas && window.Chart && window.Chart.getChart(canvas);
        return chart ? Math.max(0, ...chart.data.datasets.map(dataset => dataset.data.length)) : 0;
    }""", container)
