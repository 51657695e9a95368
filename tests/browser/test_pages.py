"""Every page of the served app, in headless Chromium: its title, a KPI value and no error box.

The app is served as users serve it, `callshrink app` on 127.0.0.1, on the pipeline's
warehouse. The pages are read from app/streamlit_app.py's st.Page(...) entries, so a page
added there is tested without touching this file. Chromium is Debian's (scripts/ensure-browser
finds it or installs it; `make test` runs it first); without it these tests skip, and fail
under CI=true.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from streamlit.source_util import page_icon_and_name

from callshrink.dbt import tool
from callshrink.settings import PROJECT_DIR
from tests.conftest import PipelineRun
from tests.servers import free_port, wait_for

APP_DIR = PROJECT_DIR / "app"
MAIN_SCRIPT = APP_DIR / "streamlit_app.py"
ENSURE_BROWSER = PROJECT_DIR / "scripts" / "ensure-browser"

# Headless, and quiet on the network: without the background-networking flags Chromium's own
# connections are refused on a closed network.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A page's script may take a while the first time (cold caches, the warehouse's queries).
PAGE_RUN_MS = 120_000
VIEWPORT = {"width": 1400, "height": 2000}


@dataclass(frozen=True)
class AppPage:
    script: str  # as given to st.Page, relative to app/
    title: str
    url_path: str  # "" for the default page, served at the root

    @property
    def id(self) -> str:
        return Path(self.script).stem


def _literal(node: ast.expr, what: str) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise AssertionError(
            f"{MAIN_SCRIPT.name}:{node.lineno}: st.Page's {what} is not a literal; "
            "tests/browser cannot read it"
        ) from None


def _is_st_page(call: ast.Call) -> bool:
    function = call.func
    return (
        isinstance(function, ast.Attribute)
        and function.attr == "Page"
        and isinstance(function.value, ast.Name)
        and function.value.id == "st"
    )


def discover_pages(main_script: Path = MAIN_SCRIPT) -> list[AppPage]:
    """The app's pages, from its st.Page(...) calls, with the URL path and title Streamlit
    gives each: url_path= or the name Streamlit infers from the file name (its own rule,
    streamlit.source_util.page_icon_and_name), the root for default=True; title= or that name
    with spaces for underscores."""
    pages: list[tuple[tuple[int, int], AppPage]] = []  # in the order of the file
    for node in ast.walk(ast.parse(main_script.read_text(), filename=str(main_script))):
        if not (isinstance(node, ast.Call) and _is_st_page(node)):
            continue
        keywords = {  # only those that decide the URL and title need be literals
            k.arg: _literal(k.value, k.arg)
            for k in node.keywords
            if k.arg in ("page", "title", "url_path", "default")
        }
        script = _literal(node.args[0], "page") if node.args else keywords.get("page")
        assert isinstance(script, str), f"{main_script.name}:{node.lineno}: a page that is no file"
        _, inferred = page_icon_and_name(Path(script))
        title = keywords.get("title") or inferred.replace("_", " ")
        url_path = str(keywords.get("url_path") or inferred).strip().strip("/")
        default = bool(keywords.get("default"))
        pages.append(
            ((node.lineno, node.col_offset), AppPage(script, title, "" if default else url_path))
        )
    return [page for _, page in sorted(pages)]


PAGES = discover_pages()


def test_the_app_has_pages_and_each_is_a_file():
    assert PAGES, f"no st.Page(...) found in {MAIN_SCRIPT}"
    for page in PAGES:
        assert (APP_DIR / page.script).is_file(), page
    assert len({page.url_path for page in PAGES}) == len(PAGES)
    assert sum(page.url_path == "" for page in PAGES) == 1, "exactly one default page"


# --- Chromium and the served app ---------------------------------------------------------------


def chromium_executable() -> str:
    """Chromium's path, as scripts/ensure-browser finds it; without one the calling test skips,
    or under CI fails, with the script's message of what to install."""
    found = subprocess.run([str(ENSURE_BROWSER), "--find"], capture_output=True, text=True)
    if found.returncode == 0:
        return found.stdout.strip()
    message = found.stderr.strip() or f"{ENSURE_BROWSER} --find failed"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI needs Chromium for the browser tests: {message}", pytrace=False)
    pytest.skip(message)


class Chromium:
    """Headless Chromium with a fresh profile, started by the first test that asks for a page,
    so that a missing Chromium fails (or skips) that test rather than erroring its setup."""

    def __init__(self, profile: Path) -> None:
        self._profile = profile
        self._playwright = None
        self._context = None

    def new_page(self):
        executable = chromium_executable()
        if self._context is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._context = self._playwright.chromium.launch_persistent_context(
                str(self._profile),
                executable_path=executable,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport=VIEWPORT,
            )
        page = self._context.new_page()
        page.set_default_timeout(PAGE_RUN_MS)
        return page

    def close(self) -> None:
        if self._context is not None:
            self._context.close()
        if self._playwright is not None:
            self._playwright.stop()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    browser = Chromium(tmp_path_factory.mktemp("chromium_profile"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def app_url(pipeline_run: PipelineRun) -> Iterator[str]:
    """`callshrink app` on a free port of 127.0.0.1, with the suite's environment (its
    warehouse and the app's read-only role), serving until the module's tests are done."""
    port = free_port()
    app = subprocess.Popen(
        [tool("callshrink"), "app", "--port", str(port)],
        cwd=PROJECT_DIR,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/_stcore/health", app, 90) == b"ok"
        yield f"http://127.0.0.1:{port}"
    finally:
        app.send_signal(signal.SIGINT)
        try:
            app.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.communicate()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


# --- the pages ---------------------------------------------------------------------------------


def _texts(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


@pytest.mark.parametrize("app_page", PAGES, ids=[page.id for page in PAGES])
def test_page_shows_its_title_a_kpi_and_no_error(
    app_page: AppPage, chromium: Chromium, screenshots: Path, request: pytest.FixtureRequest
):
    page = chromium.new_page()  # first: without Chromium, fail or skip before the pipeline
    app_url = request.getfixturevalue("app_url")
    try:
        url = f"{app_url}/{app_page.url_path}"
        page.goto(url)
        # The page has run: stApp's script state is "initial" until the first run starts,
        # "running" meanwhile, "notRunning" once it is done.
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
        page.locator('[data-testid="stMain"] h1').first.wait_for()
        page.wait_for_load_state("networkidle")
        # A page that updates its URL (the sidebar's days) runs again; until that run has drawn
        # its elements they are grey skeletons. Wait for a finished run with none left.
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=\"stSkeleton\"]') && document"
            ".querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === 'notRunning'"
        )
        page.screenshot(path=str(screenshots / f"{app_page.id}.png"))

        # an unknown path is answered with the default page, at the root
        assert urlsplit(page.url).path == f"/{app_page.url_path}", f"{url} went to {page.url}"
        # an exception is shown in an error alert too: each text once
        errors = list(
            dict.fromkeys(
                _texts(page, '[data-testid="stException"], [data-testid="stAlertContentError"]')
            )
        )
        assert not errors, f"{url} shows an error: {errors}"
        headings = _texts(page, '[data-testid="stMain"] [data-testid="stHeading"] h1')
        assert headings[:1] == [app_page.title], f"{url}: the page's h1 titles are {headings}"
        values = _texts(page, '[data-testid="stMetricValue"]')
        figures = [value for value in values if re.search(r"\d", value)]
        assert figures, f"{url}: no KPI tile shows a figure (stMetricValue texts: {values})"
    finally:
        page.close()


def test_the_sidebar_links_every_discovered_page(
    chromium: Chromium, request: pytest.FixtureRequest
):
    """The pages read from streamlit_app.py are the ones the served app links to."""
    page = chromium.new_page()
    app_url = request.getfixturevalue("app_url")
    try:
        page.goto(app_url)
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
        more = page.locator('[data-testid="stSidebarNavViewButton"]')
        if more.count():
            more.click()
        links = page.locator('[data-testid="stSidebarNavLink"]')
        hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
        assert hrefs == {f"{app_url}/{p.url_path}" for p in PAGES}
    finally:
        page.close()
