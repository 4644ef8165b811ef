"""Retention: the hourly pruning task forgets clicks' and opens' addresses and browsers,
and finished task rows, once they are older than the configured times."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from groundswell.limits.actions import do_count_request
from groundswell.limits.models import LimitedRequest
from groundswell.members.tasks import send_member_email
from groundswell.petitions.models import Petition, Signature
from groundswell.tasks import prune_task_results
from groundswell.tracking.models import Click, Open
from tests import cast as people
from tests.tracking.cast import Cast, make_cast

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


def click(cast: Cast, days_ago: float) -> Click:
    return Click.objects.create(
        mailing=cast.mailing,
        link_number=2,
        person=cast.bob,
        clicked_at=timezone.now() - timedelta(days=days_ago),
        ip_address="198.51.100.7",
        user_agent=BROWSER,
    )


def opened(cast: Cast, days_ago: float) -> Open:
    return Open.objects.create(
        mailing=cast.mailing,
        person=cast.dora,
        opened_at=timezone.now() - timedelta(days=days_ago),
        ip_address="2001:db8::7",
        user_agent=BROWSER,
    )


class TestTrackingDetails:
    def test_it_blanks_the_address_and_browser_of_clicks_and_opens_past_the_retention(
        self, settings: Any
    ) -> None:
        settings.TRACKING_DETAILS_RETENTION_DAYS = 30
        cast = make_cast()
        old_click, new_click = click(cast, 31), click(cast, 29)
        old_open, new_open = opened(cast, 45), opened(cast, 1)

        prune_task_results.call()

        for old in (old_click, old_open):
            old.refresh_from_db()
            assert (old.ip_address, old.user_agent) == (None, "")
        for new in (new_click, new_open):
            new.refresh_from_db()
            assert new.ip_address is not None and new.user_agent == BROWSER
        # The events themselves stay, for the mailing's totals and who clicked.
        assert Click.objects.filter(person=cast.bob).count() == 2
        assert Open.objects.filter(person=cast.dora).count() == 2

    def test_its_retention_is_the_configured_number_of_days(self, settings: Any) -> None:
        settings.TRACKING_DETAILS_RETENTION_DAYS = 7
        cast = make_cast()
        ten_days = click(cast, 10)

        prune_task_results.call()

        ten_days.refresh_from_db()
        assert ten_days.ip_address is None


class TestTaskResults:
    def test_finished_task_rows_go_after_the_configured_hours(self, settings: Any) -> None:
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        settings.TASK_RESULTS_RETENTION_HOURS = 2
        rows = []
        for hours in (3, 1):
            result = send_member_email.enqueue("privacy-export", "bob@example.org", {"link": "x"})
            DBTaskResult.objects.filter(pk=result.id).update(
                status="SUCCESSFUL", finished_at=timezone.now() - timedelta(hours=hours)
            )
            rows.append(result.id)

        prune_task_results.call()

        left = {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)}
        assert rows[0] not in left
        assert rows[1] in left


def signed(petition: Petition, email: str, days_ago: float) -> Signature:
    signature = Signature.objects.create(
        petition=petition,
        person=people.make_person(email),
        client_network="192.0.2.7",
        email_domain="example.org",
    )
    Signature.objects.filter(pk=signature.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return signature


class TestSignatureNetworks:
    def test_it_blanks_the_network_of_signatures_past_the_retention_and_keeps_them(
        self, settings: Any, petition: Petition
    ) -> None:
        settings.SIGNATURE_NETWORK_RETENTION_DAYS = 30
        old, new = signed(petition, "old@example.org", 31), signed(petition, "new@example.org", 29)

        prune_task_results.call()

        old.refresh_from_db()
        new.refresh_from_db()
        assert (old.client_network, old.email_domain, old.status) == ("", "example.org", "valid")
        assert new.client_network == "192.0.2.7"


class TestCountedRequests:
    def test_they_go_once_no_window_of_the_email_request_limits_needs_them(
        self, settings: Any
    ) -> None:
        rules = settings.EMAIL_REQUEST_LIMITS
        longest = max(w.period for rule in rules.values() for w in rule)
        do_count_request("email-request", {"network": "192.0.2.7"}, rules)
        do_count_request(
            "profile-link",
            {"network": "192.0.2.8"},
            rules,
            now=timezone.now() - longest - timedelta(minutes=1),
        )

        prune_task_results.call()

        assert LimitedRequest.objects.count() == 1
