"""The browser checks themselves can fail: a request off 127.0.0.1 is blocked and
recorded, and console errors, uncaught exceptions and sub-resources that fail
to load are collected with the page they happened on."""

from tests.e2e.conftest import _new_context


def _wait_until(page, condition, tries: int = 100) -> None:
    """Let the page run (Playwright delivers its events meanwhile) until the
    condition holds; at most `tries` × 50 ms."""
    for _ in range(tries):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("the condition was not met in time")


def test_the_checks_catch_foreign_requests_console_errors_and_missing_files(
    app, browser
):
    context, problems = _new_context(browser)
    try:
        page = context.new_page()
        login = f"{app.url}/accounts/login/"
        page.goto(login)
        page.evaluate("() => fetch('https://cdn.example.com/lib.js').catch(() => 0)")
        page.evaluate("() => console.error('a console error')")
        page.evaluate(
            "() => setTimeout(() => { throw new TypeError('thrown by a script'); })"
        )
        page.evaluate(
            """() => { const img = document.createElement("img");
                img.src = "/static/no-such-file.png"; document.body.append(img); }"""
        )
        _wait_until(page, lambda: len(problems.console_errors) >= 4)
    finally:
        context.close()
    assert problems.foreign_requests == ["https://cdn.example.com/lib.js"]
    errors = "\n".join(problems.console_errors)
    assert f"{login}: a console error" in errors
    assert f"{login}: uncaught TypeError: thrown by a script" in errors
    assert "status of 404" in errors  # a missing file, not the page itself
