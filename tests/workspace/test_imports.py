"""People imports in the workspace: Carla (campaigner of Open Press) uploads the sheet
from a stall, sees which column is which and the first rows, is told about the bad
row before anything happens, starts the import, and downloads the refused rows. She
can also record the people as signers of a petition collected on paper. A failure
changes nothing; the Fund's imports are not hers to see."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from groundswell.members import privacy
from groundswell.members.models import ConsentEvent, Person, Subscription
from groundswell.orgs.models import Organisation
from groundswell.petitions.counter import clear_process_cache, petition_count
from groundswell.petitions.models import Petition, PetitionStatus, Signature
from groundswell.workspace.actions.imports import progress_file
from groundswell.workspace.models import ImportStatus, PeopleImport
from tests.cast import default_list, make_person, make_petition, staff_client

pytestmark = pytest.mark.django_db

WORDING = "Yes, Open Press may email me about the library."
SHEET = (
    "E-mail,Given name,Surname,Postcode,Country\n"
    "nadia@example.org,Nadia,Nour,LS6 1AA,GB\n"
    "omar@example.org,Omar,Osei,M1 2AB,GB\n"
    "not-an-address,Pat,Page,,GB\n"
    "NADIA@example.org,Nadia,Again,,GB\n"
)


def upload(client: Client, org: Organisation, text: str = SHEET, **changes: Any) -> Any:
    form: dict[str, Any] = {
        "file": SimpleUploadedFile("stall.csv", text.encode(), content_type="text/csv"),
        "mailing_list": default_list(org).pk,
        "consent_text": WORDING,
        "source": "library stall, 3 May",
    }
    form.update(changes)
    return client.post("/staff/imports/", form)


def upload_and_start(
    client: Client, org: Organisation, capture: Callable[..., Any]
) -> PeopleImport:
    upload(client, org)
    job = PeopleImport.objects.get()
    start(client, job, capture)
    job.refresh_from_db()
    return job


def start(client: Client, job: PeopleImport, capture: Callable[..., Any], **columns: int) -> Any:
    data: dict[str, Any] = {"start": "1"}
    data.update({f"column-{field}": str(index) for field, index in columns.items()})
    with capture(execute=True):
        return client.post(f"/staff/imports/{job.pk}/", data)


class TestUploadAndCheck:
    def test_it_guesses_the_columns_and_shows_the_first_rows_and_the_problems(
        self, open_press: Organisation
    ) -> None:
        client = staff_client("carla", open_press)
        uploaded = upload(client, open_press)
        assert uploaded.status_code == 302
        job = PeopleImport.objects.get()
        assert job.columns == {
            "email": 0,
            "first_name": 1,
            "last_name": 2,
            "postal_code": 3,
            "country": 4,
        }
        assert (job.status, job.rows) == (ImportStatus.UPLOADED, 4)
        page = client.get(uploaded["Location"])
        assert page.status_code == 200
        assert [line for line, _ in page.context["preview"]] == [2, 3]
        assert page.context["preview"][0][1][:2] == ["nadia@example.org", "Nadia"]
        reasons = {row.line: row.reason for row in page.context["problems"]}
        assert set(reasons) == {4, 5}
        assert "line 2" in reasons[5]
        assert (page.context["good"], page.context["refused"]) == (2, 2)
        assert "Import 2 people" in page.content.decode()
        assert not Person.objects.exists()

    def test_it_lets_her_choose_the_email_column_when_the_header_does_not_name_it(
        self, open_press: Organisation
    ) -> None:
        client = staff_client("carla", open_press)
        upload(client, open_press, "Name,Contact\nNadia,nadia@example.org\n")
        job = PeopleImport.objects.get()
        page = client.get(f"/staff/imports/{job.pk}/")
        assert "Choose the column that holds the email addresses." in page.content.decode()
        client.post(f"/staff/imports/{job.pk}/", {"column-email": "1", "column-first_name": "0"})
        job.refresh_from_db()
        assert job.columns == {"email": 1, "first_name": 0}
        assert client.get(f"/staff/imports/{job.pk}/").context["good"] == 1

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "The submitted file is empty."),
            ("email\nzoë@example.org\n".encode("latin-1"), "not UTF-8"),
        ],
    )
    def test_it_refuses_a_file_it_cannot_read_with_a_reason(
        self, open_press: Organisation, content: bytes, message: str
    ) -> None:
        client = staff_client("carla", open_press)
        page = client.post(
            "/staff/imports/",
            {
                "file": SimpleUploadedFile("x.csv", content),
                "mailing_list": default_list(open_press).pk,
                "consent_text": WORDING,
                "source": "stall",
            },
        )
        assert page.status_code == 400
        assert message in page.content.decode()
        assert not PeopleImport.objects.exists()

    def test_it_needs_the_consent_wording_and_the_source(self, open_press: Organisation) -> None:
        client = staff_client("carla", open_press)
        page = upload(client, open_press, consent_text="", source="")
        assert page.status_code == 400
        assert set(page.context["form"].errors) == {"consent_text", "source"}


class TestImporting:
    def test_it_imports_in_the_background_and_reports_the_refused_rows(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        client = staff_client("carla", open_press)
        job = upload_and_start(client, open_press, django_capture_on_commit_callbacks)
        assert job.status == ImportStatus.DONE
        assert (job.imported, job.updated, job.rejected) == (2, 0, 2)
        assert job.data == ""  # the file is not kept once imported
        assert not progress_file(job.pk).exists()
        nadia = Person.objects.get(email_normalised="nadia@example.org")
        event = ConsentEvent.objects.get(subscription__person=nadia)
        assert (event.wording, event.source) == (WORDING, "import:library stall, 3 May")
        page = client.get(f"/staff/imports/{job.pk}/")
        assert "Download the refused rows" in page.content.decode()
        report = client.get(f"/staff/imports/{job.pk}/refused.csv")
        assert report["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
        assert rows[0] == ["line", "email", "reason"]
        assert [row[:2] for row in rows[1:]] == [
            ["4", "not-an-address"],
            ["5", "NADIA@example.org"],
        ]

    def test_a_second_start_does_nothing(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        client = staff_client("carla", open_press)
        job = upload_and_start(client, open_press, django_capture_on_commit_callbacks)
        start(client, job, django_capture_on_commit_callbacks)
        assert Subscription.objects.count() == 2
        assert PeopleImport.objects.get().imported == 2

    def test_it_records_the_people_as_signers_of_a_petition_without_emailing_them(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        petition = make_petition(sponsors=[open_press])
        omar = make_person("omar@example.org")
        Signature.objects.create(petition=petition, person=omar)
        client = staff_client("carla", open_press)
        upload(client, open_press, petition=petition.pk)
        job = PeopleImport.objects.get()
        start(client, job, django_capture_on_commit_callbacks)
        job.refresh_from_db()
        assert (job.status, job.signed) == (ImportStatus.DONE, 1)  # Omar had signed
        signature = Signature.objects.get(person__email_normalised="nadia@example.org")
        assert (signature.petition, signature.source) == (petition, "import:library stall, 3 May")
        assert mail.outbox == []
        clear_process_cache()
        assert petition_count(petition).count == 2

    def test_it_offers_only_petitions_the_organisation_sponsors(
        self, open_press: Organisation, action_fund: Organisation
    ) -> None:
        theirs = make_petition("theirs", sponsors=[action_fund])
        make_petition("draft", sponsors=[open_press], status=None)
        client = staff_client("carla", open_press)
        page = client.get("/staff/imports/")
        assert list(page.context["form"].fields["petition"].queryset) == []
        refused = upload(client, open_press, petition=theirs.pk)
        assert refused.status_code == 400
        assert not PeopleImport.objects.exists()

    def test_it_starts_on_the_list_when_there_is_only_one_to_choose(
        self, open_press: Organisation
    ) -> None:
        client = staff_client("carla", open_press)

        field = client.get("/staff/imports/").context["form"]["mailing_list"]

        assert field.value() == default_list(open_press).pk
        assert "---------" not in str(field)

    def test_a_failed_import_changes_nothing_and_can_be_started_again(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        petition = make_petition(sponsors=[open_press])
        client = staff_client("carla", open_press)
        upload(client, open_press, petition=petition.pk)
        job = PeopleImport.objects.get()
        # Between the upload and the start, the petition went back to draft: the people
        # are written first, then the signatures are refused, and all is undone.
        Petition.objects.filter(pk=petition.pk).update(status=PetitionStatus.DRAFT)
        start(client, job, django_capture_on_commit_callbacks)
        job.refresh_from_db()
        assert job.status == ImportStatus.FAILED
        assert "CannotSignDraft" in job.error
        assert not Person.objects.exists()
        assert not Subscription.objects.exists()
        assert job.data != ""
        page = client.get(f"/staff/imports/{job.pk}/")
        assert "nothing was changed" in page.content.decode()
        Petition.objects.filter(pk=petition.pk).update(status=PetitionStatus.OPEN)
        start(client, job, django_capture_on_commit_callbacks)
        job.refresh_from_db()
        assert (job.status, job.imported, job.signed) == (ImportStatus.DONE, 2, 2)


class TestWhoMay:
    def test_another_organisation_s_import_is_not_found(
        self, open_press: Organisation, action_fund: Organisation
    ) -> None:
        upload(staff_client("fiona", action_fund), action_fund)
        job = PeopleImport.objects.get()
        carla = staff_client("carla", open_press)
        for url in (
            f"/staff/imports/{job.pk}/",
            f"/staff/imports/{job.pk}/progress.json",
            f"/staff/imports/{job.pk}/refused.csv",
        ):
            assert carla.get(url).status_code == 404
        assert carla.post(f"/staff/imports/{job.pk}/", {"start": "1"}).status_code == 404
        assert job.file_name not in carla.get("/staff/imports/").content.decode()

    def test_a_viewer_cannot_import(self, open_press: Organisation) -> None:
        viewer = staff_client("vera", open_press, role="viewer")
        assert viewer.get("/staff/imports/").status_code == 404
        assert upload(viewer, open_press).status_code == 404


class TestErasure:
    def test_an_erased_person_leaves_the_file_and_the_refused_rows(
        self, open_press: Organisation, django_capture_on_commit_callbacks: Callable[..., Any]
    ) -> None:
        client = staff_client("carla", open_press)
        upload(client, open_press, SHEET + "nadia@example.org,,,,XX\n")
        waiting = PeopleImport.objects.get()
        upload(client, open_press)
        done = PeopleImport.objects.exclude(pk=waiting.pk).get()
        start(client, done, django_capture_on_commit_callbacks)
        nadia = Person.objects.get(email_normalised="nadia@example.org")
        counts = privacy.forget_everywhere(nadia)
        assert counts["imports"] == 2
        for job in PeopleImport.objects.all():
            assert "nadia@" not in job.data.lower()
            assert "nadia@" not in job.rejected_report.lower()
            assert "Nour" not in job.data
        waiting.refresh_from_db()
        assert "omar@example.org" in waiting.data


class TestProgress:
    def test_a_running_import_shows_how_far_it_has_come(
        self, open_press: Organisation, settings: Any, tmp_path: Any
    ) -> None:
        settings.DATA_DIR = tmp_path
        client = staff_client("carla", open_press)
        upload(client, open_press)
        job = PeopleImport.objects.get()
        PeopleImport.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
        progress_file(job.pk).parent.mkdir(parents=True)
        progress_file(job.pk).write_text("3")
        answer = client.get(f"/staff/imports/{job.pk}/progress.json").json()
        assert answer == {"status": "running", "rows": 4, "done": 3, "finished": False}
        page = client.get(f"/staff/imports/{job.pk}/").content.decode()
        assert '<progress id="import-bar" max="4" value="3"' in page
        assert "3 of 4 rows" in page
        assert 'http-equiv="refresh"' in page  # without JavaScript the page reloads itself
