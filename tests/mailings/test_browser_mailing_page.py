"""The mailing's staff page in chromium: it follows the send, and staff decide about unknowns.

Alice watches Open Press's mailing go out. When the send ends, or a copy becomes
unknown, the page draws itself again (status, buttons, the note about unknowns) unless
she is typing; on the unknown page she marks a copy as sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from groundswell.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientState
from groundswell.orgs.models import MailingList, Organisation
from tests.browsing import sign_in
from tests.cast import make_mailing, make_people, subscribe_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sending_mailing(org: Organisation, supporters: MailingList) -> Mailing:
    """Started, nothing sent yet. Frozen by hand: no worker runs here, states move by hand."""
    people = make_people(4)
    subscribe_all(people, supporters)
    mailing = make_mailing(org, supporters)
    MailingRecipient.objects.bulk_create(
        [MailingRecipient(mailing=mailing, person=p, email=p.email, variant="A") for p in people]
    )
    Mailing.objects.filter(pk=mailing.pk).update(
        status=MailingStatus.SENDING, started_at=timezone.now(), recipient_count=4
    )
    return mailing


def test_the_page_shows_the_end_of_the_send_and_a_copy_in_doubt(
    live_server: Any, page: Any, org: Organisation, supporters: MailingList
) -> None:
    mailing = sending_mailing(org, supporters)
    sign_in(page, live_server.url, f"/staff/mailings/{mailing.pk}/")
    page.wait_for_selector("text=0 of 4 sent")
    assert page.locator(".status").inner_text() == "sending"
    assert page.locator("button", has_text="Pause").count() == 1

    first, *others = MailingRecipient.objects.filter(mailing=mailing).order_by("pk")
    MailingRecipient.objects.filter(pk=first.pk).update(
        state=RecipientState.UNKNOWN, claimed_by="web-1:1:dead", smtp_response="unknown"
    )
    MailingRecipient.objects.filter(pk__in=[r.pk for r in others]).update(state=RecipientState.SENT)
    Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENT)

    page.wait_for_selector(".status-sent", timeout=10_000)
    # The page drawn again fills its progress line from its first poll.
    page.wait_for_function(
        "() => document.querySelector('.progress-text').textContent.startsWith('3 of 4 sent')",
        timeout=10_000,
    )
    assert page.eval_on_selector(".progress-meter", "m => [m.value, m.max]") == [3, 4]
    assert "1 recipient is unknown." in page.locator(".unknown-note").inner_text()
    assert page.locator("button", has_text="Pause").count() == 0

    page.click("text=See them and decide")
    page.wait_for_selector("text=1 recipient is unknown")
    assert first.email in page.locator(".unknown-table").inner_text()
    page.click(".unknown-table button:has-text('Mark as sent')")
    page.wait_for_selector("text=1 recipient now counts as sent.")
    assert page.locator(".unknown-none").inner_text() == "No recipient of this mailing is unknown."
    assert "alice" in page.locator(".unknown-decisions").inner_text()
    assert MailingRecipient.objects.get(pk=first.pk).state == RecipientState.SENT


def test_without_javascript_the_page_shows_how_far_the_send_had_got(
    live_server: Any, no_js_page: Any, org: Organisation, supporters: MailingList
) -> None:
    mailing = sending_mailing(org, supporters)
    first, second, *_ = MailingRecipient.objects.filter(mailing=mailing).order_by("pk")
    MailingRecipient.objects.filter(pk__in=[first.pk, second.pk]).update(state=RecipientState.SENT)

    sign_in(no_js_page, live_server.url, f"/staff/mailings/{mailing.pk}/")

    line = no_js_page.locator(".progress-text").inner_text()
    assert line == "2 of 4 sent · 0 per second · 0 failed · 0 unknown"
    meter = no_js_page.locator(".progress-meter")
    assert (meter.get_attribute("value"), meter.get_attribute("max")) == ("2", "4")


def test_the_page_waits_while_staff_type_a_test_address(
    live_server: Any, page: Any, org: Organisation, supporters: MailingList
) -> None:
    mailing = sending_mailing(org, supporters)
    sign_in(page, live_server.url, f"/staff/mailings/{mailing.pk}/")
    page.wait_for_selector("text=0 of 4 sent")
    page.fill("#id_addresses", "alice@example.org, half-typed@")

    MailingRecipient.objects.filter(mailing=mailing).update(state=RecipientState.SENT)
    Mailing.objects.filter(pk=mailing.pk).update(status=MailingStatus.SENT)

    page.wait_for_selector("text=4 of 4 sent", timeout=10_000)
    page.wait_for_timeout(2500)  # another poll: still no redraw while the field has focus
    assert page.input_value("#id_addresses") == "alice@example.org, half-typed@"
    page.locator("h2", has_text="Test send").click()  # she leaves the field
    page.wait_for_selector(".status-sent", timeout=10_000)


def test_staff_unschedule_a_scheduled_mailing_and_are_offered_no_pause(
    live_server: Any, page: Any, org: Organisation, supporters: MailingList
) -> None:
    mailing = make_mailing(org, supporters)
    Mailing.objects.filter(pk=mailing.pk).update(
        status=MailingStatus.SCHEDULED, scheduled_at=timezone.now() + timedelta(days=1)
    )
    sign_in(page, live_server.url, f"/staff/mailings/{mailing.pk}/")
    assert page.locator(".status").inner_text() == "scheduled"
    assert page.locator("button", has_text="Pause").count() == 0

    page.click("button:has-text('Unschedule')")
    page.wait_for_selector("text=The mailing is no longer scheduled: it is a draft again.")
    assert page.locator(".status").inner_text() == "draft"
    assert page.locator("button", has_text="Unschedule").count() == 0
    assert Mailing.objects.get(pk=mailing.pk).scheduled_at is None
