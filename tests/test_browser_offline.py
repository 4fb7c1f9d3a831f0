"""The app works on a closed network: no page fetches anything from beyond the local server
(no CDN scripts, web fonts, icon services or analytics)."""

from urllib.parse import urlparse

import pytest
from helpers import open_page

PAGES = ["/", "/lesson?lesson=lr-basics", "/glossary", "/lab", "/schedules", "/race",
         "/finder", "/quiz", "/flashcards", "/progress"]


@pytest.mark.browser
def test_no_page_requests_anything_outside_the_local_server(page):
    outside = []

    def record(request):
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            outside.append(request.url)

    page.on("request", record)
    for path in PAGES:
        open_page(page, path)
        page.wait_for_timeout(500)
        assert page.locator("[data-testid='stException']").count() == 0, path
    assert outside == []
