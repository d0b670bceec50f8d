"""The web pages: sign-in with a token, CSRF on every form, escaping, role-aware home."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from domain.vocabulary import AgencyKind, Role
from infra.directory import AgencyDirectory
from infra.users import UserDirectory
from tests.api.a11y import problems
from tests.api.conftest import Registered, unique_code

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def browser(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies and asks for pages, like a browser."""
    async with httpx.AsyncClient(
        base_url=api_url, headers={"accept": "text/html"}, timeout=10
    ) as client:
        yield client


def csrf_of(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def sign_in(browser: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await browser.get("/signin")
    return await browser.post("/signin", data={"token": token, "csrf_token": csrf_of(form)})


async def test_home_redirects_to_sign_in_when_signed_out(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


async def test_sign_in_page_is_accessible_and_protected(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/signin")
    assert page.status_code == 200
    html = page.text
    assert '<a href="#main-content" class="govuk-skip-link"' in html
    assert 'id="main-content"' in html and '<html lang="en-GB"' in html
    assert re.search(r'<label class="govuk-label[^"]*" for="token">Access token</label>', html)
    assert problems(html) == []
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "mashflow_csrf=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_signs_in_with_a_token_and_greets_by_role(
    browser: httpx.AsyncClient, hub: Registered
) -> None:
    coordinator = hub.people[Role.COORDINATOR]
    response = await sign_in(browser, coordinator.token)
    assert response.status_code == 303 and response.headers["location"] == "/"
    session_cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("mashflow_session=")
    ).lower()
    assert "httponly" in session_cookie and "samesite=lax" in session_cookie
    home = await browser.get("/")
    assert home.status_code == 200
    assert "Hello, Test coordinator" in home.text
    assert "signed in as a hub coordinator" in home.text
    assert 'href="/requests/new"' in home.text and 'href="/agencies"' in home.text
    assert coordinator.token not in home.text


async def test_each_role_sees_its_own_pages(browser: httpx.AsyncClient, hub: Registered) -> None:
    expected = {
        Role.AGENCY_WORKER: "/tasks",
        Role.ADVISOR: "/tasks",
        Role.RECIPIENT: "/packages",
        Role.COMPLIANCE_OFFICER: "/retention",
    }
    for role, link in expected.items():
        browser.cookies.clear()
        await sign_in(browser, hub.people[role].token)
        home = await browser.get("/")
        assert f'href="{link}"' in home.text, role
        assert 'href="/requests/new"' not in home.text


async def test_a_wrong_token_is_refused_without_echoing_it(browser: httpx.AsyncClient) -> None:
    wrong = "mf_0123456789abcdef_" + "Z" * 43
    response = await sign_in(browser, wrong)
    assert response.status_code == 401
    assert "There is a problem" in response.text
    assert wrong not in response.text
    assert (await browser.get("/")).status_code == 303


async def test_sign_in_without_the_csrf_token_is_refused(
    browser: httpx.AsyncClient, hub: Registered
) -> None:
    await browser.get("/signin")  # has the CSRF cookie, but the form field is missing
    response = await browser.post("/signin", data={"token": hub.people[Role.ADVISOR].token})
    assert response.status_code == 403
    assert "mashflow_session" not in response.headers.get("set-cookie", "")


async def test_sign_in_with_a_forged_csrf_token_is_refused(
    browser: httpx.AsyncClient, hub: Registered
) -> None:
    browser.cookies.set("mashflow_csrf", "forged.value")
    response = await browser.post(
        "/signin", data={"token": hub.people[Role.ADVISOR].token, "csrf_token": "forged.value"}
    )
    assert response.status_code == 403


async def test_sign_out_needs_the_sessions_csrf_token(
    browser: httpx.AsyncClient, hub: Registered
) -> None:
    await sign_in(browser, hub.people[Role.RECIPIENT].token)
    home = await browser.get("/")
    refused = await browser.post("/signout", data={"csrf_token": "not-the-one"})
    assert refused.status_code == 403
    assert (await browser.get("/")).status_code == 200  # still signed in
    done = await browser.post("/signout", data={"csrf_token": csrf_of(home)})
    assert done.status_code == 303 and done.headers["location"] == "/signin"
    assert (await browser.get("/")).status_code == 303


async def test_a_revoked_users_session_ends_at_once(
    browser: httpx.AsyncClient, users: UserDirectory, hub: Registered
) -> None:
    issued = await users.add("Short stay", Role.AGENCY_WORKER, hub.police)
    await sign_in(browser, issued.token)
    assert (await browser.get("/")).status_code == 200
    await users.revoke(issued.user.id)
    assert (await browser.get("/")).status_code == 303


async def test_a_tampered_session_cookie_is_ignored(
    browser: httpx.AsyncClient, hub: Registered
) -> None:
    await sign_in(browser, hub.people[Role.ADVISOR].token)
    cookie = browser.cookies["mashflow_session"]
    browser.cookies.clear()
    browser.cookies.set("mashflow_session", cookie[:-2] + ("xx" if cookie[-2:] != "xx" else "yy"))
    assert (await browser.get("/")).status_code == 303


async def test_hostile_text_is_escaped_in_pages(
    browser: httpx.AsyncClient, users: UserDirectory, agencies: AgencyDirectory
) -> None:
    script = '<script>alert("x")</script>'
    agency = await agencies.add(unique_code("evil"), f"Evil {script} & co", AgencyKind.HOUSING)
    issued = await users.add(f"Mallory {script}", Role.AGENCY_WORKER, agency.code)
    await sign_in(browser, issued.token)
    home = await browser.get("/")
    register = await browser.get("/agencies")
    for page in (home, register):
        assert page.status_code == 200
        assert script not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


async def test_an_unknown_page_is_an_html_error_page(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/no-such-page/<b>x</b>")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<b>x</b>" not in response.text


async def test_the_gov_uk_frontend_is_served_from_the_repository(
    browser: httpx.AsyncClient, hub: Registered
) -> None:
    """The GOV.UK styles and script come from this site (vendored under api/static/govuk/),
    started by a static module: no inline script or style, so the CSP stays 'self'."""
    await sign_in(browser, hub.people[Role.COORDINATOR].token)
    html = (await browser.get("/")).text
    css = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert css[:2] == ["/static/govuk/govuk-frontend.min.css", "/static/mashflow.css"]
    assert scripts == [' type="module" src="/static/mashflow.js"']
    assert " style=" not in html and "<style" not in html
    assert 'class="govuk-header' in html and 'class="govuk-service-navigation"' in html
    for path, kind, needle in (
        ("/static/govuk/govuk-frontend.min.css", "text/css", ".govuk-header{"),
        ("/static/govuk/govuk-frontend.min.js", "text/javascript", "initAll"),
        ("/static/mashflow.js", "text/javascript", 'from "/static/govuk/govuk-frontend.min.js"'),
    ):
        served = await browser.get(path)
        assert served.status_code == 200, path
        assert served.headers["content-type"].startswith(kind), path
        assert needle in served.text, path
    styles = (await browser.get("/static/govuk/govuk-frontend.min.css")).text
    assert "GDS Transport" not in styles  # GOV.UK's own font is for GOV.UK services only
    # The only asset the styles name is the crown crest of GOV.UK's footer, which no page uses.
    assert set(re.findall(r"url\(\"?([^\")]+)", styles)) == {
        "/static/govuk/assets/images/govuk-crest.svg"
    }
    assert "govuk-footer__copyright-logo" not in html


async def test_a_refusal_naming_an_agency_keeps_its_code_as_registered(
    browser: httpx.AsyncClient, hub: Registered
) -> None:
    """The page starts each message with a capital: a message that began with the code
    showed 'Police_1a2b is the requesting agency'. The code now comes inside it."""
    await sign_in(browser, hub.people[Role.COORDINATOR].token)
    form = await browser.get("/requests/new")
    sent = {
        "subject_name": "Robin Example",
        "subject_kind": "child",
        "requesting_agency": hub.police,
        "holding_agencies": hub.police,
        "purpose_category": "safeguarding_welfare",
        "purpose": "Concern raised by the school",
        "information_sought": "Any recent contact",
        "rating": "amber",
        "csrf_token": csrf_of(form),
    }
    refused = await browser.post("/requests/new", data=sent)
    assert refused.status_code == 422
    assert f"The requesting agency ({hub.police}) consults its own records" in refused.text
    assert hub.police.capitalize() not in refused.text
