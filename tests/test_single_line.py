"""Single-line text (names, titles, job titles, venues, subjects) refuses line breaks and
control characters, at every form and again when anything is written to a String
column; text areas keep their line breaks but refuse other control characters.

A name such as "Ada\\r\\nBcc: evil@attacker.example" once reached email subjects, where
it broke the outbox for everyone."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, update
from wtforms import FieldList, Form, FormField, PasswordField, StringField, TextAreaField

import partnerships
import partnerships.models  # every model, so every form module can import
from partnerships import textguard
from partnerships.accounts import services as account_services
from partnerships.accounts.models import User
from partnerships.errors import ValidationError
from partnerships.extensions import db
from partnerships.forms import BaseForm, MaxLength, NoControlCharacters, SingleLine
from partnerships.mail import OutboxMessage
from partnerships.meetings.models import Meeting, MeetingFormat
from partnerships.meetings.scheduling import MeetingDetails, schedule
from partnerships.opportunities.models import Opportunity
from partnerships.organisations.models import OrganisationMember
from tests.conftest import build_world
from tests.test_mous import world as mou_world  # noqa: F401  (fixture)
from tests.test_opportunities import opportunity_form

BREAK_IN = "Ada Okafor\r\nBcc: evil@attacker.example"
LEGITIMATE = ["Zoë O\u2019Brien-Łukasz", "李小龙", "محمد الأمين", "Café & Co. (Northbridge) Ltd",
              "Dr. Ngozi Okonjo-Iweala 👩🏾‍⚕️", "Northbridge: “Winter plan” — 2027/28"]
CONTROLS = ["a\nb", "a\r\nb", "a\rb", "a\tb", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b",
            "a\u2028b", "a\u2029b", "a\u202eb", "a\u2066b"]


def count(model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- Every form of the app carries the rule ---------------------------------------------


def _form_classes() -> list[type[BaseForm]]:
    """Every subclass of BaseForm defined in the package (importing every module first,
    so a form added later is covered without editing this test)."""
    for module in pkgutil.walk_packages(partnerships.__path__, "partnerships."):
        importlib.import_module(module.name)
    found: list[type[BaseForm]] = []
    todo = [BaseForm]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if "<locals>" not in cls.__qualname__ and cls.__module__.startswith("partnerships."):
                found.append(cls)
    return sorted(set(found), key=lambda cls: (cls.__module__, cls.__qualname__))


FORM_CLASSES = _form_classes()


def _text_fields(form: Any) -> list[Any]:
    """Every field of a form, looking inside lists of entries and subforms."""
    fields = []
    for field in form:
        if isinstance(field, FieldList):
            if not field.entries:
                field.append_entry()
            for entry in field.entries:
                fields.extend(_text_fields(entry.form) if isinstance(entry, FormField)
                              else [entry])
        elif isinstance(field, FormField):
            fields.extend(_text_fields(field.form))
        else:
            fields.append(field)
    return fields


def test_the_forms_are_found() -> None:
    names = {cls.__name__ for cls in FORM_CLASSES}
    assert {"RegisterForm", "MeetingForm", "OpportunityForm", "ClausesForm"} <= names
    assert len(FORM_CLASSES) > 50


@pytest.mark.parametrize("form_class", FORM_CLASSES,
                         ids=[f"{c.__module__}.{c.__qualname__}" for c in FORM_CLASSES])
def test_every_text_field_of_every_form_refuses_control_characters(
    app: Flask, form_class: type[BaseForm]
) -> None:
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
        for field in _text_fields(form):
            kinds = {type(validator) for validator in field.validators}
            if isinstance(field, TextAreaField):
                assert NoControlCharacters in kinds, field.name
            elif isinstance(field, StringField) and not isinstance(field, PasswordField):
                assert SingleLine in kinds, field.name


# --- The rule itself ----------------------------------------------------------------------


class Entry(Form):  # a plain wtforms subform, as FieldList(FormField(...)) uses
    text = StringField("Clause title")


class Sample(BaseForm):
    name = StringField("Full name", validators=[MaxLength(120, "Full name")])
    venue = StringField("Venue (optional)")
    notes = TextAreaField("Notes")
    password = PasswordField("Password")
    entries = FieldList(FormField(Entry), min_entries=1)


def _sample(app: Flask, **data: str) -> Sample:
    from werkzeug.datastructures import MultiDict

    with app.test_request_context():
        form = Sample(MultiDict(data), meta={"csrf": False})
        form.validate()
        return form


@pytest.mark.parametrize("value", CONTROLS)
def test_single_line_fields_refuse_control_characters_and_name_the_field(app, value):
    form = _sample(app, name=value, venue=value, **{"entries-0-text": value})
    assert form.name.errors == ["Full name must be on one line, without special characters"]
    assert form.venue.errors == ["Venue must be on one line, without special characters"]
    assert form.entries[0].form.text.errors == [
        "Clause title must be on one line, without special characters"]


@pytest.mark.parametrize("value", LEGITIMATE)
def test_single_line_fields_accept_names_in_any_language(app, value):
    form = _sample(app, name=value, venue=value, notes=value)
    assert form.errors == {}


def test_text_areas_keep_line_breaks_and_tabs_but_refuse_other_control_characters(app):
    assert _sample(app, notes="First line\r\nSecond\tline\n\n- a list").errors == {}
    assert _sample(app, notes="Bad \x00 byte").notes.errors == [
        "Notes must not contain special characters"]
    assert _sample(app, notes="Escape \x1b[31m").notes.errors != []


def test_passwords_are_left_alone(app):
    assert _sample(app, password="tab\tin my password").errors == {}


def test_one_line_collapses_each_run_of_control_characters_to_a_space():
    assert textguard.one_line(" Ada \r\n\tBcc: x\u2028\x00 y ") == "Ada Bcc: x y"
    assert all(textguard.is_single_line(textguard.one_line(v)) for v in CONTROLS)


# --- At the forms -------------------------------------------------------------------------


def test_registering_with_a_line_break_in_the_name_is_refused_keeping_what_was_typed(
    client, outbox
):
    response = client.submit("/account/register", {
        "name": BREAK_IN, "email": "ada@example.org", "password": "maple lantern orbit 42"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Full name must be on one line, without special characters" in page
    assert 'value="ada@example.org"' in page
    assert count(User) == 0
    assert outbox() == []


def test_every_error_is_reported_at_once(client):
    response = client.submit("/account/register", {"name": BREAK_IN, "email": "",
                                                   "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Full name must be on one line" in page
    assert "Enter your email address" in page and "Enter a password" in page


def test_asking_to_join_with_a_line_break_in_the_job_title_is_refused(
    client, auth, make_user, make_organisation, outbox
):
    org = make_organisation(admin=make_user("Alice Admin"))
    auth.login(make_user("Bob Asker"))

    response = client.submit(f"/organisations/{org.slug}/join", {
        "job_title": "Driver\nBcc: evil@attacker.example",
        "message": "I drive the van.\nOn Tuesdays."})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Job title must be on one line, without special characters" in page
    assert "I drive the van.\nOn Tuesdays.</textarea>" in page
    assert count(OrganisationMember) == 1  # only the admin's
    assert outbox() == []


@pytest.fixture
def forum_world(make_user, make_partnership, make_forum):
    officer = make_user("Olu Officer", "officer@example.org")
    partnership = make_partnership(officers=[officer])
    forum = make_forum(partnership, "VCSE Alliance")
    return officer, partnership, forum


def _meeting_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Alliance meeting", "description": "Our regular meeting.\nAll welcome.",
        "day": ["9", "3", "2027"], "start": "10:00", "end": "12:00", "format": "in_person",
        "venue_name": "Northbridge Civic Centre", "venue_address": "1 Market Square\nNorthbridge",
        "step_free_access": "yes", "hearing_loop": "", "parking": "", "public_transport": "",
        "access_notes": "", "joining_url": "", "joining_details": "", "capacity": "",
        "visibility": "public", "repeat": "",
    }
    data.update(overrides)
    return data


def test_a_meeting_title_or_venue_with_a_line_break_is_refused(client, auth, forum_world):
    officer, partnership, forum = forum_world
    auth.login(officer)
    url = f"/partnerships/{partnership.slug}/forums/{forum.slug}/meetings/new"

    response = client.submit(url, _meeting_form(
        title="Alliance meeting\r\nBcc: evil@attacker.example",
        venue_name="Civic Centre\x00"))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must be on one line, without special characters" in page
    assert page.count("must be on one line") >= 2  # title and venue, in the summary too
    assert "Our regular meeting.\nAll welcome.</textarea>" in page
    assert count(Meeting) == 0

    fine = client.submit(url, _meeting_form())
    assert fine.status_code == 303, fine.get_data(as_text=True)
    assert count(Meeting) == 1


def test_an_opportunity_title_with_a_line_break_is_refused(
    app, client, auth, make_user, make_organisation, make_partnership
):
    world = build_world(app, make_user, make_organisation, make_partnership)
    auth.login(world.icb_admin)

    response = client.submit("/opportunities/new", opportunity_form(
        world.icb, title="Secondment\nBcc: evil@attacker.example"))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must be on one line, without special characters" in page
    assert 'value="Northbridge House"' in page and 'value="Hannah Host"' in page
    assert count(Opportunity) == 0


def test_a_search_with_control_characters_searches_for_the_text_around_them(
    client, auth, make_user, make_organisation
):
    make_organisation("Eastside Food Bank")
    auth.login(make_user(site_admin=True))
    users = client.get("/admin/users?q=ada%0D%0ABcc")
    assert users.status_code == 200
    assert "matching “ada Bcc”" in users.get_data(as_text=True)
    organisations = client.get("/organisations/?q=food%00bank")
    assert organisations.status_code == 200
    assert "Eastside Food Bank</a>" in organisations.get_data(as_text=True)  # "food bank"
    assert client.get("/organisations/?q=%00food").status_code == 200


# --- In the services, and for anything written without a form -------------------------------


def test_registering_through_the_service_with_a_line_break_writes_nothing(app):
    with app.test_request_context(), pytest.raises(ValidationError) as raised:
        account_services.register(BREAK_IN, "ada@example.org", "maple lantern orbit 42")
    assert raised.value.field == "name"
    assert "Name must be on one line" in raised.value.message
    db.session.rollback()
    assert count(User) == 0
    assert count(OutboxMessage) == 0


def test_scheduling_through_the_service_with_a_line_break_in_the_title_writes_nothing(
    app, forum_world
):
    officer, _partnership, forum = forum_world
    details = MeetingDetails(
        title="Alliance meeting\nBcc: evil@attacker.example", day=datetime(2027, 3, 9).date(),
        start=datetime(2027, 3, 9, 10).time(), end=datetime(2027, 3, 9, 12).time(),
        format=MeetingFormat.IN_PERSON, visibility=forum.visibility,
        venue_name="Civic Centre", venue_address="1 Market Square\nNorthbridge")
    with app.test_request_context(), pytest.raises(ValidationError) as raised:
        schedule(officer, forum, details)
    assert raised.value.field == "title"
    db.session.rollback()
    assert count(Meeting) == 0
    assert count(OutboxMessage) == 0


def test_no_string_column_is_written_with_a_control_character(app, make_user):
    db.session.add(OutboxMessage(to="ada@example.org", subject="Hi\r\nBcc: evil@x.example",
                                 body="Text columns keep\nline breaks."))
    with pytest.raises(ValidationError) as raised:
        db.session.commit()
    assert raised.value.field == "subject"
    db.session.rollback()
    assert count(OutboxMessage) == 0

    user = make_user("Ada Okafor")
    user.name = "Ada\u202eOkafor"
    with pytest.raises(ValidationError):
        db.session.flush()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Ada Okafor"


def test_text_already_saved_does_not_block_changes_to_other_columns(app, make_user):
    user = make_user("Ada Okafor", "ada@example.org")
    db.session.execute(update(User).where(User.id == user.id).values(name=BREAK_IN))
    db.session.commit()
    db.session.expire_all()
    user = db.session.get(User, user.id)
    user.email = "ada.okafor@example.org"
    db.session.commit()  # the old name is not checked: it was not changed
    assert db.session.get(User, user.id).email == "ada.okafor@example.org"


def test_a_guard_error_at_commit_is_a_422_page_not_a_500(app, client, make_user):
    user = make_user("Ada Okafor")

    @app.post("/_test/rename")
    def rename():  # a view that commits without catching ValidationError
        db.session.get(User, user.id).name = "Ada\nOkafor"
        db.session.commit()
        return "renamed"

    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/_test/rename")
    assert response.status_code == 422
    assert "Name must be on one line" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).name == "Ada Okafor"


# --- The reported attack, with a name saved before this rule -------------------------------


def test_a_name_saved_with_a_line_break_cannot_add_an_email_header(
    app, client, auth, make_user, make_organisation, outbox
):
    org = make_organisation(admin=make_user("Alice Admin", "alice@example.org"))
    attacker = make_user("Mallory", "mallory@example.org")
    db.session.execute(update(User).where(User.id == attacker.id).values(name=BREAK_IN))
    db.session.commit()
    auth.login(db.session.get(User, attacker.id))

    response = client.submit(f"/organisations/{org.slug}/join", {"job_title": "",
                                                                 "message": ""})

    assert response.status_code == 303
    [email] = outbox(to="alice@example.org")
    assert email.subject == ("Ada Okafor Bcc: evil@attacker.example has asked to join "
                             "Eastside Food Bank")
    assert textguard.is_single_line(email.subject)


def test_old_rows_are_not_rewritten_by_the_guard(app):
    """A raw row (as before the fix) can still be read and updated elsewhere."""
    db.session.execute(insert(OutboxMessage.__table__).values(
        to="ada@example.org", subject="Bad\r\nsubject", body="x", attempts=0,
        last_error="", created_at=datetime.now(UTC)))
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    message.attempts = 1
    message.last_error = "ValueError: linefeed"
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.attempts)) == 1


# --- Fields read outside WTForms ------------------------------------------------------------


def test_an_mou_partys_role_refuses_control_characters_at_the_form(
        client, auth, mou_world):  # noqa: F811  (the fixture imported above)
    """MoU party roles are read from the request by the form itself, not by a WTForms
    field, so they carry the rule by hand."""
    from partnerships.mous.models import Mou
    from tests import test_mous

    world = mou_world
    auth.login(world.officer)
    response = client.submit(f"{world.base}/new", test_mous._form(
        world, title="Winter plan", **{f"role-{world.icb.id}": "Funder\x00\u202e"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The role must be on one line, without special characters" in page
    assert f'href="#role-{world.icb.id}"' in page
    assert 'value="Winter plan"' in page
    assert count(Mou) == 0


def test_text_columns_refuse_nul_in_the_service(app, make_user):
    """Multi-line (Text) columns keep line breaks and tabs but never NUL, which
    PostgreSQL would refuse with a 500."""
    from partnerships.audit import AuditEvent  # noqa: F401  (mapped)
    from partnerships.mail import OutboxMessage as Message

    db.session.add(Message(to="a@example.org", subject="Hello", body="line one\n\tline two"))
    db.session.commit()
    db.session.add(Message(to="a@example.org", subject="Hello", body="bad\x00body"))
    with pytest.raises(ValidationError, match="Body must not contain special characters"):
        db.session.flush()
    db.session.rollback()
    assert count(Message) == 1
