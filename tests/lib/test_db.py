"""lib/db.py: the lean bulk insert and the writers' turn lock."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from groundswell.lib.db import insert_all
from groundswell.members.models import Person
from groundswell.petitions.models import Signature
from tests.petitions.conftest import make_org, make_petition


@pytest.mark.django_db
class TestInsertAll:
    def test_it_stores_each_object_as_save_would_and_gives_it_its_key(self) -> None:
        people = [
            Person(email=f"P{i}@Example.org", email_normalised=f"p{i}@example.org", first_name="Ü")
            for i in range(600)  # more than one statement's worth on SQLite
        ]
        before = timezone.now()

        insert_all(people)

        stored = {p.pk: p for p in Person.objects.all()}
        assert len(stored) == 600
        for person in people:
            again = stored[person.pk]
            assert (again.email, again.email_normalised, again.first_name) == (
                person.email,
                person.email_normalised,
                "Ü",
            )
            assert again.created_at >= before  # auto_now_add filled in as on save
            assert not person._state.adding

    def test_it_keeps_nulls_booleans_and_foreign_keys(self) -> None:
        petition = make_petition(sponsors=[make_org("Open Press", "open-press")])
        person = Person.objects.create(email="a@example.org", email_normalised="a@example.org")
        signatures = [
            Signature(petition=petition, person=person, show_name=True, link_number=3),
            Signature(petition=make_petition("b", sponsors=[]), person=None, show_name=False),
        ]

        insert_all(signatures)

        first, second = (Signature.objects.get(pk=s.pk) for s in signatures)
        assert (first.person_id, first.show_name, first.link_number) == (person.pk, True, 3)
        assert (second.person_id, second.show_name, second.link_number) == (None, False, None)
        assert first.status == "valid"

    def test_it_keeps_a_key_the_object_brings_itself(self) -> None:
        task = DBTaskResult(
            args_kwargs={"args": [1], "kwargs": {}},
            task_path="groundswell.petitions.tasks.send_thank_you_email",
            queue_name="default",
            run_after=get_date_max(),
            backend_name="default",
        )

        insert_all([task])

        stored = DBTaskResult.objects.get(pk=task.pk)
        assert stored.args_kwargs == {"args": [1], "kwargs": {}}
