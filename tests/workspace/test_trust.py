"""The trust page: a flood of signatures from one network and one email domain stands
out against the petition's usual spread, Olga (campaigner of the lead sponsor) previews
what a bulk invalidation would take, runs it with a reason, and undoes it; the count,
the dashboard and the export follow. Vic (a viewer) and the coalition partner's staff
neither see the page nor invalidate anything. And trending petitions, site-wide."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from groundswell.members.models import AuditAction, AuditEntry
from groundswell.orgs.models import Organisation
from groundswell.petitions.actions.signatures import (
    do_invalidate_signatures,
    do_restore_signatures,
)
from groundswell.petitions.counter import clear_process_cache, petition_count
from groundswell.petitions.models import Petition, Signature, SignatureStatus
from groundswell.workspace.actions import invalidation
from groundswell.workspace.models import InvalidatedSignature, InvalidationBatch
from tests.cast import make_petition, staff_client
from tests.workspace.flood import FLOOD_CODE, FLOOD_DOMAIN, FLOOD_NETWORK, sign_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(open_press: Organisation) -> Client:
    return staff_client("olga", open_press)


def trust_url(petition: Petition, rest: str = "") -> str:
    return f"/staff/petitions/{petition.slug}/trust/{rest}"


def rows(ranking: Any) -> dict[str, Any]:
    return {row.value: row for row in ranking.rows}


def count_of(petition: Petition) -> int:
    clear_process_cache()
    return petition_count(petition).count


def export(client: Client, petition: Petition) -> str:
    response = client.get(f"/staff/petitions/{petition.slug}/signatures.csv?org=open-press")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def invalidate(client: Client, petition: Petition, **criteria: str) -> Any:
    return client.post(
        trust_url(petition, "invalidate/"), {"confirm": "1", "reason": "A flood", **criteria}
    )


class TestUnusualActivity:
    def test_it_marks_the_flooding_network_domain_and_postal_code(
        self, flooded: Petition, olga: Client
    ) -> None:
        page = olga.get(trust_url(flooded))
        assert page.status_code == 200
        found = page.context["activity"]
        networks, domains = rows(found.networks), rows(found.domains)
        assert networks[FLOOD_NETWORK].count == 40
        assert networks[FLOOD_NETWORK].is_outlier
        assert domains[FLOOD_DOMAIN].is_outlier
        assert rows(found.postal_codes)[FLOOD_CODE].is_outlier
        assert page.content.decode().count('class="outlier"') >= 3

    def test_it_leaves_a_common_domain_keeping_its_usual_share_alone(
        self, flooded: Petition, olga: Client
    ) -> None:
        found = olga.get(trust_url(flooded)).context["activity"]
        assert not rows(found.domains)["gmail.com"].is_outlier

    def test_it_marks_the_hour_of_the_flood_as_a_spike(
        self, flooded: Petition, olga: Client
    ) -> None:
        found = olga.get(trust_url(flooded)).context["activity"]
        assert found.usual_hour <= 2
        assert [h.count for h in found.hours if h.is_spike] == [40]

    def test_a_crowd_alone_has_no_outliers(self, petition: Petition, olga: Client) -> None:
        sign_many(petition, 150, prefix="crowd", spread_hours=20)
        found = olga.get(trust_url(petition)).context["activity"]
        assert not [r for r in found.networks.rows + found.domains.rows if r.is_outlier]
        assert found.spikes == 0

    def test_the_dashboard_links_to_it(self, flooded: Petition, olga: Client) -> None:
        dashboard = olga.get(f"/staff/petitions/{flooded.slug}/").content.decode()
        assert trust_url(flooded) in dashboard

    def test_a_table_row_fills_in_the_form(self, flooded: Petition, olga: Client) -> None:
        page = olga.get(trust_url(flooded) + f"?network={FLOOD_NETWORK}")
        assert page.context["form"]["network"].value() == FLOOD_NETWORK


class TestPreview:
    def test_it_counts_what_would_go_and_shows_a_sample(
        self, flooded: Petition, olga: Client
    ) -> None:
        page = olga.post(
            trust_url(flooded, "invalidate/"), {"preview": "1", "network": FLOOD_NETWORK}
        )
        assert page.status_code == 200
        assert page.context["preview"].count == 40
        assert len(page.context["preview"].sample) == 10
        assert "Invalidate 40 signatures" in page.content.decode()
        assert Signature.objects.filter(status=SignatureStatus.INVALIDATED).count() == 0

    def test_every_criterion_given_must_match(self, flooded: Petition, olga: Client) -> None:
        fakes = Signature.objects.filter(client_network=FLOOD_NETWORK).order_by("pk")
        ids = " ".join(str(pk) for pk in fakes.values_list("pk", flat=True)[:5])
        crowd = Signature.objects.exclude(client_network=FLOOD_NETWORK).first()
        assert crowd is not None
        page = olga.post(
            trust_url(flooded, "invalidate/"),
            {"preview": "1", "domain": FLOOD_DOMAIN, "ids": f"{ids}, {crowd.pk}"},
        )
        assert page.context["preview"].count == 5

    def test_a_time_window_counts_the_signatures_in_it(
        self, flooded: Petition, olga: Client
    ) -> None:
        since = timezone.localtime(timezone.now() - timedelta(minutes=30))
        page = olga.post(
            trust_url(flooded, "invalidate/"),
            {"preview": "1", "since": since.strftime("%Y-%m-%dT%H:%M")},
        )
        assert page.context["preview"].count == 40

    def test_it_asks_for_a_criterion(self, flooded: Petition, olga: Client) -> None:
        page = olga.post(trust_url(flooded, "invalidate/"), {"preview": "1"})
        assert page.status_code == 400
        assert "at least one criterion" in page.content.decode()

    def test_it_refuses_what_is_not_an_id(self, flooded: Petition, olga: Client) -> None:
        page = olga.post(trust_url(flooded, "invalidate/"), {"preview": "1", "ids": "12 x7"})
        assert page.status_code == 400
        assert "is not a signature id" in page.content.decode()


# The public count is recounted when the batch commits: these tests commit for real.
@pytest.mark.django_db(transaction=True)
class TestBulkInvalidation:
    def test_it_needs_a_reason(self, flooded: Petition, olga: Client) -> None:
        answer = invalidate(olga, flooded, network=FLOOD_NETWORK, reason=" ")
        assert answer.status_code == 400
        assert Signature.objects.filter(status=SignatureStatus.INVALIDATED).count() == 0

    def test_it_takes_the_flood_out_of_the_count_dashboard_and_export(
        self, flooded: Petition, olga: Client
    ) -> None:
        assert count_of(flooded) == 160
        assert "fake0@example.org" in export(olga, flooded)

        answer = invalidate(olga, flooded, network=FLOOD_NETWORK)
        assert answer.status_code == 302
        assert count_of(flooded) == 120
        stats = olga.get(f"/staff/petitions/{flooded.slug}/stats.json").json()
        assert stats["total"] == 120 and stats["counted"] == 120
        exported = export(olga, flooded)
        assert "fake0@example.org" not in exported
        assert "crowd0@example.org" in exported
        fakes = Signature.objects.filter(client_network=FLOOD_NETWORK)
        assert set(fakes.values_list("status", "invalidated_reason")) == {
            (SignatureStatus.INVALIDATED, "A flood")
        }
        page = olga.get(answer["Location"]).content.decode()
        assert "40 signatures invalidated" in page

    def test_it_records_who_why_and_how_many(
        self, flooded: Petition, olga: Client, open_press: Organisation
    ) -> None:
        invalidate(olga, flooded, network=FLOOD_NETWORK, domain=FLOOD_DOMAIN)
        batch = InvalidationBatch.objects.get()
        assert (batch.invalidated, batch.created_by, batch.reason) == (40, "staff:olga", "A flood")
        assert batch.finished_at is not None
        assert InvalidatedSignature.objects.filter(batch=batch).count() == 40
        entry = AuditEntry.objects.get(action=AuditAction.SIGNATURES_INVALIDATED_IN_BULK)
        assert entry.actor == "staff:olga"
        assert entry.organisation == open_press
        assert entry.details["invalidated"] == 40
        assert entry.details["network"] == FLOOD_NETWORK
        assert entry.details["domain"] == FLOOD_DOMAIN
        assert entry.details["reason"] == "A flood"
        assert entry.details["criteria"] == f"network {FLOOD_NETWORK}, domain {FLOOD_DOMAIN}"

    def test_undo_restores_exactly_the_batch(
        self, flooded: Petition, olga: Client, open_press: Organisation
    ) -> None:
        fakes = list(
            Signature.objects.filter(client_network=FLOOD_NETWORK)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # One was invalidated before (a duplicate); the batch does not take it.
        do_invalidate_signatures("staff:earlier", [fakes[0]], reason="Duplicate")
        invalidate(olga, flooded, network=FLOOD_NETWORK)
        batch = InvalidationBatch.objects.get()
        assert batch.invalidated == 39
        # Another was restored by hand and invalidated again since: no longer the batch's.
        do_restore_signatures("staff:someone", [fakes[1]])
        do_invalidate_signatures("staff:someone", [fakes[1]], reason="Still fake")
        assert count_of(flooded) == 120

        answer = olga.post(trust_url(flooded, f"batches/{batch.pk}/undo/"))
        assert answer.status_code == 302
        assert count_of(flooded) == 158
        still = Signature.objects.filter(status=SignatureStatus.INVALIDATED)
        assert dict(still.values_list("pk", "invalidated_reason")) == {
            fakes[0]: "Duplicate",
            fakes[1]: "Still fake",
        }
        batch.refresh_from_db()
        assert (batch.restored, batch.undone_by) == (38, "staff:olga")
        entry = AuditEntry.objects.get(action=AuditAction.SIGNATURES_RESTORED_IN_BULK)
        assert (entry.details["restored"], entry.organisation) == (38, open_press)
        assert "fake5@example.org" in export(olga, flooded)

    def test_a_batch_is_undone_once(self, flooded: Petition, olga: Client) -> None:
        invalidate(olga, flooded, network=FLOOD_NETWORK)
        batch = InvalidationBatch.objects.get()
        olga.post(trust_url(flooded, f"batches/{batch.pk}/undo/"))
        again = olga.post(trust_url(flooded, f"batches/{batch.pk}/undo/"), follow=True)
        assert "undone already" in again.content.decode()
        assert (
            AuditEntry.objects.filter(action=AuditAction.SIGNATURES_RESTORED_IN_BULK).count() == 1
        )

    def test_a_large_batch_goes_in_chunks(
        self, petition: Petition, olga: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(invalidation, "CHUNK", 700)
        sign_many(petition, 2500, prefix="bot", domain=FLOOD_DOMAIN, postal_code=FLOOD_CODE)
        sign_many(petition, 30, prefix="crowd")
        invalidate(olga, petition, domain=FLOOD_DOMAIN)
        assert InvalidationBatch.objects.get().invalidated == 2500
        assert count_of(petition) == 30
        batch = InvalidationBatch.objects.get()
        olga.post(trust_url(petition, f"batches/{batch.pk}/undo/"))
        assert count_of(petition) == 2530


@pytest.mark.django_db(transaction=True)
class TestWhoMay:
    def test_a_viewer_neither_sees_nor_invalidates(
        self, flooded: Petition, open_press: Organisation
    ) -> None:
        vic = staff_client("vic", open_press, role="viewer")
        assert vic.get(trust_url(flooded)).status_code == 404
        assert invalidate(vic, flooded, network=FLOOD_NETWORK).status_code == 404
        assert Signature.objects.filter(status=SignatureStatus.INVALIDATED).count() == 0
        dashboard = vic.get(f"/staff/petitions/{flooded.slug}/").content.decode()
        assert trust_url(flooded) not in dashboard

    def test_the_partner_neither_sees_nor_invalidates_nor_undoes(
        self, flooded: Petition, olga: Client, action_fund: Organisation
    ) -> None:
        invalidate(olga, flooded, network=FLOOD_NETWORK)
        batch = InvalidationBatch.objects.get()
        partner = staff_client("paula", action_fund)
        assert partner.get(trust_url(flooded)).status_code == 404
        assert invalidate(partner, flooded, domain=FLOOD_DOMAIN).status_code == 404
        assert partner.post(trust_url(flooded, f"batches/{batch.pk}/undo/")).status_code == 404
        assert count_of(flooded) == 120

    def test_a_batch_of_another_petition_is_not_found(
        self, flooded: Petition, olga: Client, open_press: Organisation
    ) -> None:
        invalidate(olga, flooded, network=FLOOD_NETWORK)
        other = make_petition("other", sponsors=[open_press])
        batch = InvalidationBatch.objects.get()
        assert olga.post(trust_url(other, f"batches/{batch.pk}/undo/")).status_code == 404


class TestTrending:
    def test_a_flooded_petition_trends_and_a_steady_one_does_not(
        self, flooded: Petition, olga: Client, open_press: Organisation
    ) -> None:
        steady = make_petition("steady", sponsors=[open_press], title="Steady petition")
        Petition.objects.filter(pk=steady.pk).update(
            opened_at=timezone.now() - timedelta(days=3, hours=1)
        )
        sign_many(steady, 144, prefix="steady", spread_hours=72)
        page = olga.get("/staff/trending/")
        assert page.status_code == 200
        found = {t.petition.slug: t for t in page.context["trends"]}
        assert found[flooded.slug].is_trending
        assert found[flooded.slug].last_hour == 40
        assert not found["steady"].is_trending
        assert page.context["trends"][0].petition == flooded
        assert trust_url(flooded) in page.content.decode()

    def test_it_lists_only_petitions_the_staff_member_may_see(
        self, flooded: Petition, open_press: Organisation, action_fund: Organisation
    ) -> None:
        make_petition("ours-alone", sponsors=[open_press], title="Open Press alone")
        partner = staff_client("paula", action_fund)
        page = partner.get("/staff/trending/")
        slugs = [t.petition.slug for t in page.context["trends"]]
        assert slugs == [flooded.slug]
        # The partner sees the figures, not the trust page of the lead sponsor.
        assert trust_url(flooded) not in page.content.decode()
