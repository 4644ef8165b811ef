from __future__ import annotations

from django.test import Client


class TestAdminIndex:
    def test_it_links_staff_to_mailings_and_the_mailbox(self, alice_client: Client) -> None:
        response = alice_client.get("/admin/")
        assert response.status_code == 200
        content = response.content.decode()
        assert 'href="/staff/mailings/"' in content
        assert 'href="/staff/mailbox/"' in content
        assert "Organisations" in content or "organisations" in content
