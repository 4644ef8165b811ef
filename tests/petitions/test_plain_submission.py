"""The common submission read without the Form machinery (forms.read_plain_submission).

It may decline anything, but whatever it accepts must be exactly what SignForm would
accept, with the same values: the sign view trusts it in SignForm's place.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from groundswell.members.models import ConsentEvent, Person
from groundswell.orgs.models import Organisation
from groundswell.petitions import views
from groundswell.petitions.forms import (
    SignForm,
    ValidSubmission,
    read_plain_submission,
)
from groundswell.petitions.models import ConsentMode, Petition, Signature
from tests.petitions.conftest import sign_data

URL = "/sign/cancel-the-contract/"

SPONSORS = [
    Organisation(pk=1, name="Open Press", slug="open-press"),
    Organisation(pk=2, name="Action Fund", slug="action-fund"),
]

BROWSER_SUBMISSION = {
    "csrfmiddlewaretoken": "x" * 64,
    "first_name": "Katy",
    "last_name": "Nguyen",
    "email": " Katy.Nguyen@Example.ORG ",
    "postal_code": "AB1 2CD",
    "country": "GB",
    "comment": "",
    "show_name": "on",
    "consent_open-press": "on",
    "source": "newsletter",
}


def petition_with(
    *, postal_code: bool = True, country: bool = True, mode: str = ConsentMode.EXPLICIT
) -> Petition:
    return Petition(
        slug="cancel-the-contract",
        require_postal_code=postal_code,
        require_country=country,
        consent_mode=mode,
    )


def query(fields: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, values in fields.items():
        data.setlist(name, values)
    return data


def as_the_form_reads_it(data: QueryDict, petition: Petition) -> ValidSubmission | None:
    form = SignForm(data, petition=petition, sponsors=SPONSORS)
    if not form.is_valid():
        return None
    return ValidSubmission(form.cleaned_data, form.normalised_email, form.ticked_organisations())


def text_values(max_length: int) -> st.SearchStrategy[str]:
    edge = st.sampled_from(["", " ", "a" * max_length, "a" * (max_length + 1)])
    padded = st.builds(
        lambda s, n: " " * n + s, st.sampled_from(["a" * max_length, "ab"]), st.integers(0, 2)
    )
    awkward = st.text(alphabet=st.sampled_from("aB ßé\x00\t\n\u00a0\u2028@.-"), max_size=8)
    return st.one_of(edge, padded, awkward, st.text(max_size=12))


FIELD_VALUES: dict[str, st.SearchStrategy[str]] = {
    "first_name": st.one_of(st.sampled_from(["Katy", " Katy ", "K"]), text_values(100)),
    "last_name": st.one_of(st.sampled_from(["Nguyen", "O'Brien"]), text_values(100)),
    "email": st.one_of(
        st.sampled_from(
            [
                "katy@example.org",
                " KATY@Example.org ",
                "katy@bücher.example",
                "katy@",
                "@example.org",
                "katy@@example.org",
                "katy@example..org",
                "katy@xn--.org",
                "a" * 245 + "@example.org",
                "katy@exa mple.org",
                "kä ty@example.org",
            ]
        ),
        text_values(254),
    ),
    "postal_code": st.one_of(st.sampled_from(["AB1 2CD", "10115"]), text_values(20)),
    "country": st.one_of(
        st.sampled_from(["GB", "gb", " de ", "XX", "G", "GBR", "", "ß", "ﬀ"]), text_values(2)
    ),
    "comment": st.one_of(st.just(""), text_values(1000)),
    "show_name": st.sampled_from(["on", "", "true", "false", "0", "off", "On"]),
    "consent_open-press": st.sampled_from(["on", "", "true", "false", "0"]),
    "consent_action-fund": st.sampled_from(["on", "", "true", "1"]),
}


VALID = {name: [value] for name, value in BROWSER_SUBMISSION.items()}


@st.composite
def submissions(draw: Any) -> dict[str, list[str]]:
    """A browser's valid submission with one to three fields changed: left out,
    repeated (as a hand-made POST can), or given an awkward value."""
    fields = dict(VALID)
    for name in draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), min_size=1, max_size=3)):
        count = draw(st.sampled_from([1, 1, 1, 0, 2]))
        fields[name] = draw(st.lists(FIELD_VALUES[name], min_size=count, max_size=count))
        if not fields[name]:
            del fields[name]
    return fields


class TestValidSubmission:
    def test_it_reads_a_browsers_submission_as_the_form_does(self) -> None:
        petition = petition_with()
        data = query(VALID)

        plain = read_plain_submission(data, petition, SPONSORS)

        assert plain is not None
        assert plain == as_the_form_reads_it(data, petition)
        assert plain.normalised_email == "katy.nguyen@example.org"
        assert plain.cleaned_data["email"] == "Katy.Nguyen@Example.ORG"
        assert [o.slug for o in plain.ticked] == ["open-press"]
        assert plain.cleaned_data["show_name"] is True
        assert plain.cleaned_data["consent_action-fund"] is False

    def test_it_reads_a_submission_without_boxes_under_notice_consent(self) -> None:
        petition = petition_with(mode=ConsentMode.NOTICE, postal_code=False, country=False)
        fields = {"first_name": ["Katy"], "last_name": ["Nguyen"], "email": ["k@example.org"]}
        data = query(fields)

        plain = read_plain_submission(data, petition, SPONSORS)

        assert plain is not None
        assert plain == as_the_form_reads_it(data, petition)
        assert plain.ticked == []

    @pytest.mark.parametrize(
        "change",
        [
            {"first_name": ["Katy", "Kate"]},
            {"first_name": [""]},
            {"email": ["katy@"]},
            {"last_name": ["Ngu\x00yen"]},
            {"country": ["XX"]},
            {"postal_code": ["  "]},
            {"comment": ["a" * 1001]},
            {"show_name": ["true"]},
            {"consent_open-press": ["on", "on"]},
        ],
    )
    def test_it_leaves_anything_unusual_to_the_form(self, change: dict[str, list[str]]) -> None:
        fields = VALID | change

        assert read_plain_submission(query(fields), petition_with(), SPONSORS) is None

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        fields=submissions(),
        postal_code=st.booleans(),
        country=st.booleans(),
        mode=st.sampled_from([ConsentMode.EXPLICIT, ConsentMode.NOTICE]),
    )
    @example(
        fields=VALID,
        postal_code=True,
        country=True,
        mode=ConsentMode.EXPLICIT,
    )
    def test_it_accepts_only_what_the_form_accepts_with_the_same_values(
        self, fields: dict[str, list[str]], postal_code: bool, country: bool, mode: str
    ) -> None:
        petition = petition_with(postal_code=postal_code, country=country, mode=mode)
        data = query(fields)

        plain = read_plain_submission(data, petition, SPONSORS)

        if plain is not None:
            assert plain == as_the_form_reads_it(data, petition)


def member_with(*, postal_code: str = "LS1 4AP", country: str = "GB") -> Person:
    return Person(pk=7, first_name="Katy", postal_code=postal_code, country=country)


def as_the_form_reads_it_for(
    data: QueryDict, petition: Petition, member: Person, consented: set[int]
) -> ValidSubmission | None:
    form = SignForm(data, petition=petition, sponsors=SPONSORS, member=member, consented=consented)
    if not form.is_valid():
        return None
    return ValidSubmission(form.cleaned_data, form.normalised_email, form.ticked_organisations())


ONE_CLICK = {"akid": ["5.7.AAAAAAAAAAAAAAAA"], "t": ["1"], "consent_action-fund": ["on"]}


class TestRecognisedMembersSubmission:
    def test_it_reads_a_one_click_submission_as_the_form_does(self) -> None:
        petition, member = petition_with(), member_with()
        data = query(ONE_CLICK)

        plain = read_plain_submission(data, petition, SPONSORS, member=member, consented={1})

        assert plain is not None
        assert plain == as_the_form_reads_it_for(data, petition, member, {1})
        assert [o.slug for o in plain.ticked] == ["action-fund"]
        assert plain.normalised_email is None
        assert "email" not in plain.cleaned_data and "postal_code" not in plain.cleaned_data

    def test_it_ignores_a_box_for_an_organisation_already_consented_to(self) -> None:
        petition, member = petition_with(), member_with()
        data = query(ONE_CLICK | {"consent_open-press": ["true", "x"]})

        plain = read_plain_submission(data, petition, SPONSORS, member=member, consented={1})

        assert plain is not None
        assert plain == as_the_form_reads_it_for(data, petition, member, {1})

    def test_it_leaves_a_missing_postal_code_to_the_form(self) -> None:
        petition, member = petition_with(), member_with(postal_code="")

        plain = read_plain_submission(query(ONE_CLICK), petition, SPONSORS, member=member)

        assert plain is None

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        fields=submissions(),
        postal_code=st.booleans(),
        country=st.booleans(),
        mode=st.sampled_from([ConsentMode.EXPLICIT, ConsentMode.NOTICE]),
        has_postal_code=st.booleans(),
        has_country=st.booleans(),
        consented=st.sets(st.sampled_from([1, 2])),
    )
    def test_it_accepts_only_what_the_form_accepts_with_the_same_values(
        self,
        fields: dict[str, list[str]],
        postal_code: bool,
        country: bool,
        mode: str,
        has_postal_code: bool,
        has_country: bool,
        consented: set[int],
    ) -> None:
        petition = petition_with(postal_code=postal_code, country=country, mode=mode)
        member = member_with(
            postal_code="LS1 4AP" if has_postal_code else "", country="GB" if has_country else ""
        )
        data = query(fields)

        plain = read_plain_submission(data, petition, SPONSORS, member=member, consented=consented)

        if plain is not None:
            assert plain == as_the_form_reads_it_for(data, petition, member, consented)


class FormThatMustNotBeBuilt(SignForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the sign view built SignForm for a plain submission")


@pytest.mark.django_db
class TestSignView:
    def test_it_signs_a_plain_submission_without_building_the_form(
        self, client: Client, petition: Petition, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(views, "SignForm", FormThatMustNotBeBuilt)

        response = client.post(URL, {**sign_data(petition), "consent_open-press": "on"})

        assert response.status_code == 303
        signature = Signature.objects.get(petition=petition)
        assert signature.person.email == "charlie@example.org"
        assert ConsentEvent.objects.filter(subscription__person=signature.person).count() == 1

    def test_it_names_the_problems_of_a_submission_it_cannot_read_plainly(
        self, client: Client, petition: Petition
    ) -> None:
        response = client.post(URL, {**sign_data(petition), "email": "charlie@"})

        assert response.status_code == 400
        assert "Enter an email address like name@example.org." in response.content.decode()
        assert not Signature.objects.exists()
