"""The database goes away while people sign: each signer gets a 503 page with the form
and what they typed (never a 500, never half a signature), and signing works again by
itself once the database is back. PostgreSQL is taken away behind a TCP proxy (open
connections cut, new ones refused); SQLite is locked by another process for longer
than the busy timeout."""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client

from groundswell.members.models import Person
from groundswell.petitions import pages
from groundswell.petitions.models import Petition, Signature
from groundswell.petitions.writer_client import SigningUnavailable
from tests.conftest import free_port
from tests.mailings.processes import database_url
from tests.operations.proxy import behind_proxy
from tests.petitions.conftest import sign_data
from tests.serving import start_serve, stop_serve, wait_until_ready


class TestSignWhileTheDatabaseIsAway:
    def test_it_answers_503_with_the_form_and_what_was_typed(
        self, client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        client.get(f"/sign/{petition.slug}/")  # the petition as last read

        def away(*args: object) -> None:
            raise SigningUnavailable("test")

        monkeypatch.setattr("groundswell.petitions.views.write_together", away)
        response = client.post(
            f"/sign/{petition.slug}/",
            sign_data(petition, first_name="Zoë", email="zoe@example.org", utm_source="news"),
        )

        assert response.status_code == 503
        assert int(response["Retry-After"]) > 0
        html = response.content.decode()
        assert 'value="zoe@example.org"' in html
        assert 'value="Zoë"' in html
        assert 'name="utm_source" value="news"' in html
        assert not Person.objects.filter(email="zoe@example.org").exists()

    def test_it_answers_the_sites_503_page_when_it_never_read_the_petition(
        self, client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pages._petitions.clear()

        def away(slug: str) -> None:
            raise OperationalError("connection refused")

        monkeypatch.setattr(pages, "read_public_petition", away)
        response = client.post(f"/sign/{petition.slug}/", sign_data(petition))

        assert response.status_code == 503
        assert int(response["Retry-After"]) > 0
        assert "Back in a moment" in response.content.decode()


BUSY_TIMEOUT = 3


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Signer:
    """One browser: it loads the form once, then posts it."""

    def __init__(self, base: str, petition: Petition) -> None:
        self.url = f"{base}/sign/{petition.slug}/"
        self.petition = petition
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirects()
        )
        page = self.opener.open(self.url, timeout=10).read().decode()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match is not None
        self.token = match.group(1)

    def sign(self, **fields: str) -> tuple[int, Message, str]:
        data = sign_data(self.petition, **fields)
        data["csrfmiddlewaretoken"] = self.token
        request = urllib.request.Request(
            self.url, data=urllib.parse.urlencode(data).encode(), headers={"Referer": self.url}
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()


@pytest.mark.slow
@pytest.mark.alone
@pytest.mark.django_db(transaction=True)
def test_signers_get_their_form_back_with_a_503_while_the_database_is_away(
    petition: Petition,
) -> None:
    url = database_url()
    proxy = None
    if connection.vendor == "postgresql":
        proxy, url = behind_proxy(url)
    data_dir = Path(tempfile.mkdtemp(prefix="gs-a-"))  # short: the writer's socket is in it
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = start_serve(
        port,
        data_dir=data_dir,
        database_url=url,
        workers=1,
        threads=4,
        # Locked for longer than this is "away" (the default is 20 s).
        SQLITE_BUSY_TIMEOUT_SECONDS=str(BUSY_TIMEOUT),
    )
    lock: sqlite3.Connection | None = None
    try:
        wait_until_ready(base)
        zoe, yusuf = Signer(base, petition), Signer(base, petition)
        assert zoe.sign(email="before@example.org")[0] == 303

        if proxy is not None:
            proxy.stop()
            # Past the server's cache of the petition: its page is shown as last read.
            time.sleep(pages.PETITION_CACHE_SECONDS + 0.5)
        else:
            lock = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
            lock.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        status, headers, html = zoe.sign(first_name="Zoë", email="zoe@example.org")
        waited = time.monotonic() - started
        yusuf_status, _, _ = yusuf.sign(first_name="Yusuf", email="yusuf@example.org")

        assert (status, yusuf_status) == (503, 503)
        assert headers["Content-Type"].startswith("text/html")
        assert int(headers["Retry-After"]) > 0
        assert "Your signature is not saved yet" in html
        # The form again, with what she typed and a token to send it with.
        assert 'value="zoe@example.org"' in html
        assert 'value="Zoë"' in html
        assert 'name="csrfmiddlewaretoken"' in html
        assert f'action="/sign/{petition.slug}/"' in html
        # One timeout, not one per way of writing it (the writer process, this
        # process's writer thread, the request alone).
        assert waited < 1.8 * BUSY_TIMEOUT

        if proxy is not None:
            proxy.start()
        else:
            assert lock is not None
            lock.execute("ROLLBACK")
        # She sends the same form again; the server was not restarted.
        answers = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            answers.append(zoe.sign(first_name="Zoë", email="zoe@example.org")[0])
            if answers[-1] == 303:
                break
            time.sleep(0.5)
        assert answers[-1] == 303, answers
        assert set(answers) <= {303, 503}
        assert serve.poll() is None

        emails = set(
            Signature.objects.filter(petition=petition).values_list("person__email", flat=True)
        )
        assert emails == {"before@example.org", "zoe@example.org"}
        # Yusuf did not send it again: nothing of his was written, not even his person.
        assert not Person.objects.filter(email="yusuf@example.org").exists()
    finally:
        if lock is not None:
            lock.close()
        output = stop_serve(serve)
        if proxy is not None:
            proxy.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    assert "Traceback" not in output
