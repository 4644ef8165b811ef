from __future__ import annotations

from django.test import Client


class TestAdminIndex:
    def test_it_links_staff_to_mailings(self, alice_client: Client) -> None:
        response = alice_client.get("/admin/")
        assert response.status_code == 200
        content = response.content.decode()
        assert 'href="/staff/mailings/"' in content
        # The mail viewer exists only in the demo (tests/mailbox/test_demo_only.py).
        assert 'href="/staff/mailbox/"' not in content
        assert "Organisations" in content or "organisations" in content
