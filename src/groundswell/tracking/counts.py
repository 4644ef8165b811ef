"""What other apps ask of the clicks, without reading tracking's models themselves."""

from __future__ import annotations

from django.db.models import QuerySet

from groundswell.tracking.models import Click


def unique_human_clickers(mailing_id: int, people: QuerySet) -> int:
    """How many of these people clicked a link in the mailing; machine clicks
    (tracking/machine.py) do not count."""
    return (
        Click.objects.filter(mailing_id=mailing_id, person_id__in=people, is_machine=False)
        .values("person_id")
        .distinct()
        .count()
    )
