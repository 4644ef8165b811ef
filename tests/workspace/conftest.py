"""Fixtures shared by the workspace's tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from groundswell.orgs.models import Organisation
from groundswell.petitions.models import Petition
from tests.workspace.flood import FLOOD_CODE, FLOOD_DOMAIN, FLOOD_NETWORK, sign_many


@pytest.fixture
def flooded(petition: Petition, open_press: Organisation) -> Petition:
    """Three days of a real crowd (120 signers, a third on gmail.com), then 40
    signatures in the last hour from one network, one domain and one postal code."""
    Petition.objects.filter(pk=petition.pk).update(
        opened_at=timezone.now() - timedelta(days=3, hours=1)
    )
    petition.refresh_from_db()
    sign_many(petition, 120, prefix="crowd", spread_hours=72, minutes_ago=70, chose=open_press)
    sign_many(
        petition,
        40,
        prefix="fake",
        network=FLOOD_NETWORK,
        domain=FLOOD_DOMAIN,
        postal_code=FLOOD_CODE,
        chose=open_press,
    )
    return petition
