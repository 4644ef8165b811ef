"""/admin/login/ is no way around the staff sign-in's throttle
(workspace/signin.py): it checks no password at all, GET or POST, and sends everyone
to /staff/login/, where failures count."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from groundswell.workspace.signin import FAILURES_PER_ADDRESS

pytestmark = pytest.mark.django_db

PASSWORD = "Long-enough-pass-99"


def test_a_password_posted_to_the_admin_login_signs_no_one_in() -> None:
    User.objects.create_superuser("root", "", PASSWORD)
    client = Client(REMOTE_ADDR="203.0.113.5")

    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")
    assert "_auth_user_id" not in client.session


def test_an_address_locked_out_of_the_staff_sign_in_stays_out_through_the_admin() -> None:
    User.objects.create_superuser("root", "", PASSWORD)
    client = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(FAILURES_PER_ADDRESS):
        client.post("/staff/login/", {"username": f"guess{n}", "password": "x"})

    client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    response = client.post(
        "/staff/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302
