"""Signing staff in from a browser test: the one place that knows the sign-in form.

A note for every browser test: our pages forbid eval (Content-Security-Policy), and
`page.wait_for_function("an expression")` evals the expression on every poll after
the first, so it fails whenever the condition is not already true. Give it a
function, `"() => an expression"`, which is compiled once.
"""

from __future__ import annotations

from typing import Any

from tests.cast import PASSWORD, make_staff


def sign_in(
    page: Any,
    base_url: str,
    next_path: str,
    *,
    username: str = "alice",
    password: str = PASSWORD,
    superuser: bool = True,
    create: bool = True,
) -> None:
    """Sign in through the staff sign-in page and land on `next_path`. Makes the user
    (an installation administrator unless told otherwise) when `create`."""
    if create:
        make_staff(username, password=password, superuser=superuser)
    page.goto(f"{base_url}/staff/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path.split('?')[0]}*")
