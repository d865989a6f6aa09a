"""The browser set-up itself works: the app serves, its assets are local, the
login page is accessible."""

from tests.e2e.conftest import axe_violations


def test_the_login_page_loads_with_local_assets_and_no_violations(app, new_page):
    page = new_page()
    response = page.goto(f"{app.url}/accounts/login/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.get_by_role("heading", name="Log in").is_visible()
    # Bootstrap was served by the app itself.
    color = page.evaluate(
        "getComputedStyle(document.querySelector('.btn-primary')).backgroundColor"
    )
    assert color not in ("", "rgba(0, 0, 0, 0)")
    assert axe_violations(page) == []
