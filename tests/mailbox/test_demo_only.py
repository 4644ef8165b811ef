"""Outside the demo there is no mail viewer at all: not even for an administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_is_not_mounted_outside_the_demo(client: Client, alice: User) -> None:
    client.force_login(alice)
    assert client.get("/staff/mailbox/").status_code == 404
    admin_index = client.get("/admin/")
    assert admin_index.status_code == 200
    assert b"/staff/mailbox/" not in admin_index.content


def test_it_is_mounted_in_the_demo(client: Client, alice: User, demo_urls: None) -> None:
    client.force_login(alice)
    assert client.get("/staff/mailbox/").status_code == 200
    assert b"/staff/mailbox/" in client.get("/admin/").content
