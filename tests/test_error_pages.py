from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error


def in_site_look(html: str) -> bool:
    return 'class="site-header"' in html and "css/site.css" in html


class TestErrorPages:
    def test_it_answers_an_unknown_address_with_a_404_in_the_site_look(self, client, db):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        assert in_site_look(response.text)
        assert "Page not found" in response.text

    def test_it_answers_a_server_failure_with_a_500_in_the_site_look(self):
        response = server_error(RequestFactory().get("/"))
        assert response.status_code == 500
        html = response.content.decode()
        assert in_site_look(html)
        assert "Something went wrong" in html

    @pytest.mark.parametrize("code", [400, 403, 429, 503])
    def test_it_has_a_page_in_the_site_look_for(self, code):
        from django.template.loader import render_to_string

        assert in_site_look(render_to_string(f"{code}.html"))

    def test_it_explains_an_expired_form_instead_of_a_technical_page(self, db):
        response = Client(enforce_csrf_checks=True).post("/privacy/", {"email": "a@b.example"})
        assert response.status_code == 403
        assert in_site_look(response.text)
        assert "This form has expired" in response.text
