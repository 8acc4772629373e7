"""/docs and /redoc work without internet: every script, stylesheet, font and icon they
load comes from the app itself (api.md: "/docs and /redoc work without internet access").
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

BASE = "http://testserver"
# Inside a stylesheet: url(...) and @import "...", the ways CSS pulls in fonts and images.
CSS_REFERENCE = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
# Inside the page's own inline script: the places Swagger UI / ReDoc are told to fetch from.
SCRIPT_URL = re.compile(r"""(?:url|specUrl|Redoc\.init)\s*[:(]\s*['"]([^'"]+)['"]""")


class References(HTMLParser):
    """Every src/href of a page, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "spec-url") and value:
                self.urls.append(value)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def _is_off_host(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in ("", "data", "http", "https") or (
        parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" != BASE
    )


async def _everything_loaded_by(client: httpx.AsyncClient, page: str) -> dict[str, bytes]:
    """Fetch the page, then what it references, then what those stylesheets reference."""
    response = await client.get(page)
    assert response.status_code == 200, response.text
    parser = References()
    parser.feed(response.text)
    pending = [urljoin(BASE + page, url) for url in parser.urls]
    for script in parser.inline_scripts:
        pending += [urljoin(BASE + page, url) for url in SCRIPT_URL.findall(script)]
    loaded: dict[str, bytes] = {}
    while pending:
        url = pending.pop()
        if url in loaded or url.startswith("data:"):
            continue
        assert not _is_off_host(url), f"{page} loads {url} from outside the app"
        asset = await client.get(url)
        assert asset.status_code == 200, f"{url}: {asset.status_code}"
        assert asset.content, f"{url} is empty"
        loaded[url] = asset.content
        if asset.headers["content-type"].startswith("text/css"):
            for found in CSS_REFERENCE.findall(asset.text):
                pending.append(urljoin(url, found[0] or found[1]))
    return loaded


@pytest.mark.parametrize(
    ("page", "must_load"),
    [
        ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css", "/openapi.json", "favicon")),
        ("/redoc", ("redoc.standalone.js", "/openapi.json", "favicon")),
    ],
)
async def test_the_docs_page_and_every_asset_it_references_come_from_the_app(
    client: httpx.AsyncClient, page: str, must_load: tuple[str, ...]
) -> None:
    loaded = await _everything_loaded_by(client, page)

    for name in must_load:
        assert any(name in url for url in loaded), f"{page} does not load {name}: {list(loaded)}"


async def test_swagger_ui_is_not_told_to_call_the_online_validator(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/docs")).text

    assert "validator.swagger.io" not in page
    assert '"validatorUrl": null' in page


async def test_redoc_does_not_ask_for_google_fonts(client: httpx.AsyncClient) -> None:
    page = (await client.get("/redoc")).text

    assert "fonts.googleapis.com" not in page
