"""The sign form's defences (docs/security.md): rate limits per client network and per
email domain, the honeypot, the minimum time from showing the form to sending it,
names that carry no links, and disposable domains. Each refused signer sees the form
again with what they typed, and nothing is stored."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.lib.env import ConfigurationError, env_limits
from groundswell.lib.limits import LimitSyntaxError, Window, format_limits, parse_limits
from groundswell.lib.tokens import make_member_token
from groundswell.petitions.defences import form_stamp
from groundswell.petitions.models import Petition, Signature
from tests.cast import make_person
from tests.petitions.conftest import sign_data

KEYS = ["network", "domain"]


def limits(text: str) -> dict[str, Any]:
    return parse_limits(text, keys=KEYS, defaults={})


def sign(
    client: Client, petition: Petition, n: int, *, address: str = "192.0.2.7", **fields: str
) -> Any:
    data = sign_data(petition, email=f"signer{n}@example.org", first_name=f"Signer{n}")
    data.update(fields)
    return client.post(petition.get_absolute_url(), data, REMOTE_ADDR=address)


def form_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="(?:text|email)" name="(\w+)" value="([^"]*)"', html))


class TestLimitSyntax:
    def test_it_reads_a_burst_and_a_sustained_window_per_key(self) -> None:
        rules = limits("network=20/10m,200/24h; domain=50/1h")

        assert rules["network"] == (
            Window(20, timedelta(minutes=10)),
            Window(200, timedelta(hours=24)),
        )
        assert rules["domain"] == (Window(50, timedelta(hours=1)),)
        assert format_limits(rules) == "network=20/10m,200/24h; domain=50/1h"

    def test_it_keeps_the_default_of_a_key_left_out_and_turns_one_off(self) -> None:
        defaults = limits("network=20/10m; domain=5/10m")

        rules = parse_limits("domain=off", keys=KEYS, defaults=defaults)

        assert rules == {"network": defaults["network"], "domain": ()}

    def test_off_turns_every_rule_off(self) -> None:
        assert parse_limits("OFF", keys=KEYS, defaults=limits("network=1/1m")) == {
            "network": (),
            "domain": (),
        }

    @pytest.mark.parametrize(
        "text", ["ip=5/10m", "network=5", "network=5/10s", "network=0/10m", "network=5/1m,6/1m"]
    )
    def test_it_refuses_what_it_cannot_read(self, text: str) -> None:
        with pytest.raises(LimitSyntaxError):
            limits(text)

    def test_a_bad_setting_stops_start_up_naming_the_variable(self, monkeypatch: Any) -> None:
        monkeypatch.setenv("SIGN_LIMITS", "network=lots")

        with pytest.raises(ConfigurationError, match=r"^SIGN_LIMITS: network= takes windows"):
            env_limits("SIGN_LIMITS", "network=1/1m", KEYS)


@pytest.fixture
def two_per_network(settings: Any) -> None:
    settings.SIGN_LIMITS = limits("network=2/10m,3/24h; domain=off")


@pytest.fixture
def two_per_domain(settings: Any) -> None:
    settings.SIGN_LIMITS = limits("network=off; domain=2/10m")


@pytest.mark.django_db
class TestRateLimits:
    def test_it_answers_429_after_the_burst_keeping_what_was_typed(
        self, client: Client, petition: Petition, two_per_network: None
    ) -> None:
        assert sign(client, petition, 1).status_code == 303
        assert sign(client, petition, 2).status_code == 303

        response = sign(client, petition, 3, last_name="Third", postal_code="LS2 9JT")

        assert response.status_code == 429
        assert 540 <= int(response["Retry-After"]) <= 601
        html = response.content.decode()
        assert "from your network in a short time" in html
        assert "please try again in 10 minutes" in html
        assert form_values(html)["email"] == "signer3@example.org"
        assert form_values(html)["first_name"] == "Signer3"
        assert form_values(html)["last_name"] == "Third"
        assert form_values(html)["postal_code"] == "LS2 9JT"
        assert Signature.objects.count() == 2

    def test_it_takes_other_networks_meanwhile(
        self, client: Client, petition: Petition, two_per_network: None
    ) -> None:
        for n in range(2):
            sign(client, petition, n)

        assert sign(client, petition, 3, address="198.51.100.9").status_code == 303

    def test_the_sustained_window_holds_after_the_burst_has_passed(
        self, client: Client, petition: Petition, two_per_network: None
    ) -> None:
        for n in range(3):
            sign(client, petition, n)
            Signature.objects.update(created_at=timezone.now() - timedelta(hours=1))

        response = sign(client, petition, 4)

        assert response.status_code == 429
        # The oldest of the three leaves the day's window in 23 hours.
        assert 22 * 3600 < int(response["Retry-After"]) <= 23 * 3600 + 1

    def test_it_counts_an_ipv6_network_as_one(
        self, client: Client, petition: Petition, two_per_network: None
    ) -> None:
        sign(client, petition, 1, address="2001:db8:1:2::1")
        sign(client, petition, 2, address="2001:db8:1:2:ffff::7")

        assert sign(client, petition, 3, address="2001:db8:1:2::99").status_code == 429
        assert sign(client, petition, 4, address="2001:db8:1:3::1").status_code == 303

    def test_it_limits_a_custom_domain_but_not_a_big_webmail_provider(
        self, client: Client, petition: Petition, two_per_domain: None
    ) -> None:
        for n in range(2):
            sign(client, petition, n, email=f"bot{n}@flood.example", address=f"192.0.2.{n}")
        for n in range(4):
            sign(client, petition, n, email=f"person{n}@gmail.com", address=f"198.51.100.{n}")

        response = sign(client, petition, 9, email="bot9@flood.example", address="203.0.113.5")

        assert response.status_code == 429
        assert "with your email domain" in response.content.decode()
        assert Signature.objects.filter(email_domain="gmail.com").count() == 4

    def test_a_petition_may_set_its_own_limits(
        self, client: Client, petition: Petition, two_per_network: None
    ) -> None:
        Petition.objects.filter(pk=petition.pk).update(sign_limits="network=off")
        petition.refresh_from_db()

        for n in range(4):
            assert sign(client, petition, n).status_code == 303

    def test_off_takes_everyone(self, client: Client, petition: Petition, settings: Any) -> None:
        settings.SIGN_LIMITS = limits("off")

        for n in range(4):
            assert sign(client, petition, n).status_code == 303

    def test_the_defaults_let_a_lecture_hall_sign_from_one_address(
        self, client: Client, petition: Petition
    ) -> None:
        """100 people behind one university NAT address in ten minutes."""
        from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition

        for n in range(99):
            do_sign_petition(
                petition,
                SignatureDetails(email=f"s{n}@uni.example.ac.uk", first_name="S", last_name="T"),
                ip_address="192.0.2.50",
            )

        assert sign(client, petition, 100, address="192.0.2.50").status_code == 303
        assert sign(client, petition, 101, address="192.0.2.50").status_code == 429

    def test_a_recognised_member_gets_the_same_429(
        self, client: Client, petition: Petition, two_per_network: None
    ) -> None:
        for n in range(2):
            sign(client, petition, n)
        katy = make_person("katy@example.org", "Katy", "Member")

        response = client.post(
            petition.get_absolute_url(),
            {"akid": make_member_token(katy.pk), "postal_code": "LS2 9JT", "country": "GB"},
            REMOTE_ADDR="192.0.2.7",
        )

        assert response.status_code == 429
        assert 'Signing as <strong dir="auto">Katy</strong>' in response.content.decode()
        assert not Signature.objects.filter(person=katy).exists()


@pytest.mark.django_db
class TestHoneypot:
    def test_the_page_has_a_field_people_never_see(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.get(petition.get_absolute_url()).content.decode()

        field = re.search(r'<div class="hp-field" aria-hidden="true">.*?</div>', html)
        assert field
        assert "Leave this field empty" in field[0]
        assert 'name="website"' in field[0] and 'tabindex="-1"' in field[0]
        assert "style=" not in field[0]
        css = Path(__file__).parents[2] / "src/groundswell/static/css/site.css"
        assert ".hp-field { display: none" in css.read_text()

    def test_it_refuses_a_form_with_the_honeypot_filled(
        self, client: Client, petition: Petition
    ) -> None:
        response = client.post(
            petition.get_absolute_url(), sign_data(petition, website="https://spam.example/")
        )

        assert response.status_code == 400
        html = response.content.decode()
        assert "Leave the field “Leave this field empty” empty" in html
        assert form_values(html)["email"] == "charlie@example.org"
        assert 'name="website" value=""' in html
        assert not Signature.objects.exists()


@pytest.mark.django_db
class TestMinimumTime:
    def test_each_page_carries_a_stamp_of_its_own_moment(
        self, client: Client, petition: Petition, monkeypatch: Any
    ) -> None:
        first = client.get(petition.get_absolute_url()).content.decode()
        later = time.time() + 100
        monkeypatch.setattr(time, "time", lambda: later)

        second = client.get(petition.get_absolute_url()).content.decode()

        stamps = [re.search(r'name="shown" value="(\d+)\.', html)[1] for html in (first, second)]  # type: ignore[index]
        assert int(stamps[1]) - int(stamps[0]) >= 99

    def test_it_refuses_a_form_sent_sooner_than_a_person_could(
        self, client: Client, petition: Petition
    ) -> None:
        response = client.post(
            petition.get_absolute_url(), sign_data(petition, shown=form_stamp(time.time() - 1))
        )

        assert response.status_code == 400
        html = response.content.decode()
        assert "quicker than we expected" in html
        assert form_values(html)["first_name"] == "Charlie"
        assert not Signature.objects.exists()

    def test_pressing_again_after_reading_the_message_signs(
        self, client: Client, petition: Petition, monkeypatch: Any
    ) -> None:
        html = client.get(petition.get_absolute_url()).content.decode()
        stamp = re.search(r'name="shown" value="([^"]+)"', html)[1]  # type: ignore[index]
        later = time.time() + 5
        monkeypatch.setattr(time, "time", lambda: later)

        response = client.post(petition.get_absolute_url(), sign_data(petition, shown=stamp))

        assert response.status_code == 303

    def test_a_person_correcting_a_field_is_not_made_to_wait_again(
        self, client: Client, petition: Petition
    ) -> None:
        data = sign_data(petition, postal_code="")
        html = client.post(petition.get_absolute_url(), data).content.decode()
        again = re.search(r'name="shown" value="([^"]+)"', html)[1]  # type: ignore[index]

        response = client.post(petition.get_absolute_url(), sign_data(petition, shown=again))

        assert again == data["shown"]
        assert response.status_code == 303

    def test_a_forged_stamp_is_replaced_by_a_genuine_one(
        self, client: Client, petition: Petition
    ) -> None:
        html = client.post(
            petition.get_absolute_url(), sign_data(petition, shown="1.forged")
        ).content.decode()

        again = re.search(r'name="shown" value="([^"]+)"', html)[1]  # type: ignore[index]
        assert again != "1.forged" and abs(int(again.split(".")[0]) - time.time()) < 5

    @pytest.mark.parametrize("stamp", [None, "", "1700000000.forgedforgedforge", "x.y"])
    def test_it_refuses_a_form_without_a_genuine_stamp(
        self, client: Client, petition: Petition, stamp: str | None
    ) -> None:
        response = client.post(petition.get_absolute_url(), sign_data(petition, shown=stamp))

        assert response.status_code == 400
        assert not Signature.objects.exists()

    def test_a_petition_may_turn_it_off(self, client: Client, petition: Petition) -> None:
        Petition.objects.filter(pk=petition.pk).update(sign_min_seconds=0)

        response = client.post(petition.get_absolute_url(), sign_data(petition, shown=None))

        assert response.status_code == 303


@pytest.mark.django_db
class TestNames:
    @pytest.mark.parametrize(
        "name",
        [
            "Visit https://evil.example",
            "www.prize-draw.biz",
            "evil.example/claim",
            "win at prize.biz",
            "me@evil.example",
            "A" * 61,
        ],
    )
    def test_it_refuses_a_name_that_could_carry_a_message(
        self, client: Client, petition: Petition, name: str
    ) -> None:
        response = client.post(petition.get_absolute_url(), sign_data(petition, first_name=name))

        assert response.status_code == 400
        html = response.content.decode()
        assert "without a web or email address" in html or "at most 60 characters" in html
        assert not Signature.objects.exists()

    @pytest.mark.parametrize("name", ["J. R. R.", "St. John", "Zoë-Anne", "O'Brien", "Mary-Kate"])
    def test_it_takes_real_names(self, client: Client, petition: Petition, name: str) -> None:
        response = client.post(petition.get_absolute_url(), sign_data(petition, last_name=name))

        assert response.status_code == 303


@pytest.mark.django_db
class TestDisposableDomains:
    def test_it_refuses_a_throwaway_address(self, client: Client, petition: Petition) -> None:
        response = client.post(
            petition.get_absolute_url(), sign_data(petition, email="x@mailinator.com")
        )

        assert response.status_code == 400
        assert "temporary-mail services" in response.content.decode()
        assert not Signature.objects.exists()

    def test_it_refuses_the_domains_of_the_configured_file(
        self, client: Client, petition: Petition, settings: Any
    ) -> None:
        settings.SIGN_BLOCKED_DOMAINS = frozenset({"throwaway.example"})

        response = client.post(
            petition.get_absolute_url(), sign_data(petition, email="x@mx.throwaway.example")
        )

        assert response.status_code == 400

    def test_the_file_is_read_at_start_and_a_bad_one_stops_it(
        self, tmp_path: Path, monkeypatch: Any
    ) -> None:
        from groundswell.lib.env import env_domain_file

        listed = tmp_path / "blocked.txt"
        listed.write_text("# ours\nThrowaway.example.\n\nspam.example  # since May\n")
        monkeypatch.setenv("SIGN_BLOCKED_DOMAINS_FILE", str(listed))
        assert env_domain_file("SIGN_BLOCKED_DOMAINS_FILE") == {"throwaway.example", "spam.example"}

        listed.write_text("good.example\nnot a domain\n")
        with pytest.raises(ConfigurationError, match=r"line 2 of .* is not a domain"):
            env_domain_file("SIGN_BLOCKED_DOMAINS_FILE")
        monkeypatch.setenv("SIGN_BLOCKED_DOMAINS_FILE", str(tmp_path / "missing.txt"))
        with pytest.raises(ConfigurationError, match=r"^SIGN_BLOCKED_DOMAINS_FILE: cannot read"):
            env_domain_file("SIGN_BLOCKED_DOMAINS_FILE")

    def test_it_can_be_turned_off(self, client: Client, petition: Petition, settings: Any) -> None:
        settings.SIGN_BLOCK_DISPOSABLE = False

        response = client.post(
            petition.get_absolute_url(), sign_data(petition, email="x@mailinator.com")
        )

        assert response.status_code == 303


@pytest.mark.django_db
class TestThankYouEmailsPerDay:
    def test_an_address_signed_into_many_petitions_gets_at_most_its_daily_emails(
        self,
        petition: Petition,
        settings: Any,
        mailoutbox: list,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
        from tests.cast import make_petition

        settings.THANK_YOU_EMAILS_PER_DAY = 2
        sponsors = list(petition.sponsors.all())
        victim = SignatureDetails(email="victim@example.org", first_name="V", last_name="Ictim")

        for n in range(4):
            with django_capture_on_commit_callbacks(execute=True):
                do_sign_petition(make_petition(f"petition-{n}", sponsors=sponsors), victim)

        assert [m.to for m in mailoutbox] == [["victim@example.org"]] * 2
        assert Signature.objects.filter(thanked_at=None).count() == 2

    def test_the_day_after_it_thanks_again(
        self,
        petition: Petition,
        settings: Any,
        mailoutbox: list,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition
        from tests.cast import make_petition

        settings.THANK_YOU_EMAILS_PER_DAY = 1
        sponsors = list(petition.sponsors.all())
        victim = SignatureDetails(email="victim@example.org", first_name="V", last_name="Ictim")
        with django_capture_on_commit_callbacks(execute=True):
            do_sign_petition(petition, victim)
        Signature.objects.update(thanked_at=timezone.now() - timedelta(days=1, minutes=1))

        with django_capture_on_commit_callbacks(execute=True):
            do_sign_petition(make_petition("another", sponsors=sponsors), victim)

        assert len(mailoutbox) == 2


@pytest.mark.django_db
class TestPerPetitionSettingsInTheEditor:
    def test_staff_set_a_petition_s_own_limits_and_minimum_time(self, open_press: Any) -> None:
        from tests.cast import staff_client
        from tests.workspace.test_petition_editor import petition_form

        carla = staff_client("carla", open_press)
        carla.post("/staff/petitions/new/", petition_form(open_press))
        url = "/staff/petitions/save-the-riverside-library/edit/"
        assert 'name="sign_limits"' in carla.get(url).content.decode()

        bad = carla.post(url, petition_form(open_press, sign_limits="network=lots"))
        good = carla.post(
            url, petition_form(open_press, sign_limits="domain=off", sign_min_seconds="0")
        )

        assert bad.status_code == 400
        assert "network= takes windows like 100/10m" in bad.content.decode()
        assert good.status_code in (200, 302, 303)
        petition = Petition.objects.get()
        assert (petition.sign_limits, petition.sign_min_seconds) == ("domain=off", 0)


@pytest.mark.django_db
class TestTheWritersCount:
    """The signature writer counts each batch in its transaction, so a flood that
    arrives all at once is cut at the limit exactly, not after it."""

    def pending(self, petition: Petition, n: int, address: str = "192.0.2.7") -> Any:
        from groundswell.petitions.actions.signing import SignatureDetails, prepare_signature

        details = SignatureDetails(email=f"bot{n}@example.org", first_name="B", last_name="T")
        return prepare_signature(petition, details, ip_address=address, rate_limited=True)

    def test_a_flood_arriving_in_one_batch_is_cut_at_the_limit(
        self, petition: Petition, two_per_network: None
    ) -> None:
        from groundswell.petitions.actions.signing import do_sign_petitions

        batch = [self.pending(petition, n) for n in range(5)]
        batch.insert(2, self.pending(petition, 9, address="198.51.100.1"))

        results = do_sign_petitions(batch)

        assert [r.over_limit is None for r in results] == [True, True, True, False, False, False]
        assert {r.over_limit.key for r in results if r.over_limit} == {"network"}
        assert Signature.objects.count() == 3

    def test_only_the_sign_form_is_limited_not_imports_or_scripts(
        self, petition: Petition, two_per_network: None
    ) -> None:
        from groundswell.petitions.actions.signing import SignatureDetails, do_sign_petition

        for n in range(4):
            details = SignatureDetails(email=f"i{n}@example.org", first_name="I", last_name="M")
            do_sign_petition(petition, details, ip_address="192.0.2.7")

        assert Signature.objects.count() == 4

    def test_the_limit_and_its_answer_cross_to_the_machine_s_writer(
        self, petition: Petition, two_per_network: None
    ) -> None:
        import json

        from groundswell.petitions.actions.signing import PendingSignature, SignResult
        from groundswell.petitions.defences import OverLimit
        from groundswell.petitions.writer_client import _over_limit_from_wire
        from groundswell.petitions.writer_service import _result_to_wire

        pending = self.pending(petition, 1, address="2001:db8:1:2::5")
        wired = PendingSignature.from_wire(json.loads(json.dumps(pending.to_wire())))
        over = OverLimit("network", timezone.now() + timedelta(minutes=3))
        answer = json.loads(json.dumps(_result_to_wire(SignResult(False, over_limit=over))))

        assert (wired.limits, wired.counted) == (
            "network=2/10m,3/24h; domain=off",
            {"network": "2001:db8:1:2::/64"},
        )
        assert _over_limit_from_wire(answer["over"]) == over
