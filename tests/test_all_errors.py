"""Every error at once: each form with checks across its fields, submitted with all its
mistakes, answers once with every one of them in the error summary, in the order the
fields appear on the page, and keeps what was typed.

``CASES`` is the table: a form class, the page it is on, who fills it, the payload
with its mistakes and the messages expected, in page order. The last test enumerates
every form class of the app and fails if one with checks across fields (``check``) or
fields that depend on a choice (``depends_on``) has no entry, or if a form overrides
``validate`` (the hook that runs every check on every submit) instead of ``check``.
"""

from __future__ import annotations

import html
import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

import partnerships
from partnerships.accounts.forms import ChangePasswordForm
from partnerships.accounts.forms import RegisterForm as AccountForm
from partnerships.concerns.forms import ConcernForm, SignedOutConcernForm
from partnerships.factories import mous as mou_factory
from partnerships.factories import opportunities as opportunity_factory
from partnerships.forms import BaseForm
from partnerships.meetings.forms import EditForm, MeetingForm, PostponeForm, ScheduleForm
from partnerships.meetings.record_forms import ActionForm
from partnerships.mous.forms import ClausesForm, MouForm
from partnerships.opportunities.forms import OpportunityForm, PlanForm
from partnerships.organisations.forms import OrganisationForm
from tests.test_mous import make_world

SUMMARY_RE = re.compile(r'<div class="govuk-error-summary".*?</ul>', re.S)
LINK_RE = re.compile(r'<a href="#([^"]+)">(.*?)</a>', re.S)


@dataclass
class Place:
    """What the cases need: an MoU world, a forum with a convenor, a meeting to come
    and one that has taken place, and a draft MoU."""

    mous: Any
    forum: Any
    convenor: Any
    upcoming: Any
    past: Any
    draft: Any
    placement: Any

    @property
    def forum_base(self) -> str:
        return f"/partnerships/{self.mous.partnership.slug}/forums/{self.forum.slug}"


@pytest.fixture
def place(app: Any, make_user: Any, make_organisation: Any, make_partnership: Any,
          make_forum: Any, make_meeting: Any) -> Place:
    world = make_world(app, make_user, make_organisation, make_partnership)
    convenor = make_user("Cara Convenor", "cara@example.org")
    forum = make_forum(world.partnership, "VCSE Alliance", convenors=[convenor])
    upcoming = make_meeting(forum, "Alliance meeting")
    past = make_meeting(forum, "Last meeting", starts_in=timedelta(days=-7))
    with app.test_request_context():
        draft = mou_factory.draft(world.officer, world.partnership,
                                  [world.council, world.icb])
        offer = opportunity_factory.opportunity(world.cvs_admin, world.cvs)
        placement = opportunity_factory.placement(world.cvs_admin, world.council_member,
                                                  offer, world.council)
    from partnerships.extensions import db
    db.session.commit()
    return Place(world, forum, convenor, upcoming, past, draft, placement)


def _date(day: str, month: str, year: str) -> list[str]:
    return [day, month, year]


@dataclass
class Case:
    """One form with all its mistakes: ``messages`` in page order (each a part of the
    summary's text for one field), ``kept`` the typed values the page must show again."""

    form: type[BaseForm]
    url: Callable[[Place], str]
    user: Callable[[Place], Any]
    payload: Callable[[Place], dict[str, Any]]
    messages: list[str]
    kept: list[str] = field(default_factory=list)


MEETING_MISTAKES: dict[str, Any] = {
    "title": "", "description": "Our regular meeting.", "day": _date("9", "3", "2027"),
    "start": "14:00", "end": "13:00", "format": "hybrid", "venue_name": "",
    "venue_address": "", "step_free_access": "", "hearing_loop": "", "parking": "",
    "public_transport": "", "access_notes": "", "joining_url": "", "joining_details": "",
    "capacity": "lots", "visibility": "public",
}

CASES: dict[str, Case] = {
    "schedule a meeting": Case(
        ScheduleForm,
        lambda p: f"{p.forum_base}/meetings/new", lambda p: p.convenor,
        lambda p: {**MEETING_MISTAKES, "repeat": "every_n_weeks", "interval_weeks": "",
                   "count": "4"},
        ["Enter a title", "The end time must be after the start time",
         "Enter the weeks between meetings", "Enter the venue", "Enter the venue's address",
         "Enter the joining link", "Capacity must be a whole number"],
        kept=["14:00", "13:00", "lots", "Our regular meeting."]),
    "change a meeting": Case(
        EditForm,
        lambda p: f"/meetings/{p.upcoming.id}/edit", lambda p: p.convenor,
        lambda p: {**MEETING_MISTAKES, "scope": "this", "format": "online",
                   "joining_url": "http://meet.example.org"},
        ["Enter a title", "The end time must be after the start time",
         "The joining link must start with https://", "Capacity must be a whole number"],
        kept=["14:00", "13:00", "lots", "http://meet.example.org"]),
    "postpone a meeting": Case(
        PostponeForm,
        lambda p: f"/meetings/{p.upcoming.id}/postpone", lambda p: p.convenor,
        lambda p: {"reason": "", "day": _date("14", "5", "2027"), "start": "",
                   "end": "half past"},
        ["Enter why the meeting is postponed", "Enter the new start time",
         "New end time must be a time"],
        kept=["half past"]),
    "add an action": Case(
        ActionForm,
        lambda p: f"/meetings/{p.past.id}/actions/new", lambda p: p.convenor,
        lambda p: {"description": "", "owner_id": "", "owner_organisation_id": "",
                   "due_date": _date("31", "2", "2027"), "item_id": ""},
        ["Enter what is to be done", "Choose who will do it", "Due date must be a real date"],
        kept=['value="31"']),
    "draft an MoU": Case(
        MouForm,
        lambda p: f"{p.mous.base}/new", lambda p: p.mous.officer,
        lambda p: {"title": "", "purpose": "Keep people well at home.",
                   "parties": [str(p.mous.council.id)], f"role-{p.mous.council.id}": "",
                   "start_date": _date("1", "4", "2027"),
                   "review_date": _date("1", "3", "2027"),
                   "end_date": _date("1", "1", "2027"), "data_sharing": "y",
                   "data_sharing_note": ""},
        ["Enter a title for the MoU", "Select at least two member organisations",
         "Enter the role Northbridge Council plays",
         "The review date must be after the start date",
         "The end date must be after the start date", "Describe what data"],
        kept=["Keep people well at home."]),
    "an MoU's clauses": Case(
        ClausesForm,
        lambda p: f"{p.mous.base}/{p.draft.id}/clauses", lambda p: p.mous.officer,
        lambda p: {"clauses-0-text": "Share plans.", "clauses-1-text": "Refer people.",
                   "clauses-2-text": ""},
        ["responsible for clause 1", "responsible for clause 2"],
        kept=["Share plans.", "Refer people."]),
    "offer an opportunity": Case(
        OpportunityForm,
        lambda p: "/opportunities/new", lambda p: p.mous.cvs_admin,
        lambda p: {"organisation_id": str(p.mous.cvs.id), "kind": "shadowing",
                   "title": "Shadow our director", "description": "", "skills_sought": "",
                   "host_team": "", "location_kind": "in_person", "place": "",
                   "time_commitment": "2 days", "total_days": "", "duration": "",
                   "starts_earliest": _date("1", "10", "2027"),
                   "starts_latest": _date("1", "9", "2027"), "places": "1",
                   "open_to": "both", "seniority": "", "pay_and_backfill": "",
                   "closing_date": _date("30", "6", "2027"), "contact_name": "Cass",
                   "contact_email": "cass@cvs.example", "no_manager_approval": "y",
                   "partnership_id": ""},
        ["Say what the person will do and gain", "Enter where the person will work",
         "Enter how many days of shadowing", "The latest start date must be the same as",
         "Only shadowing of under 3 days"],
        kept=["Shadow our director", "2 days"]),
    "plan a placement": Case(
        PlanForm,
        lambda p: f"/placements/{p.placement.id}/plan", lambda p: p.mous.cvs_admin,
        lambda p: {"starts_on": _date("1", "10", "2027"), "ends_on": _date("1", "9", "2027"),
                   "objective_1": "Learn how the CVS works", "objective_2": "x" * 1000},
        ["The end date must be the same as or after the start date",
         "Objective 2 must be"],
        kept=["Learn how the CVS works"]),
    "add an organisation": Case(
        OrganisationForm,
        lambda p: "/organisations/new", lambda p: p.convenor,
        lambda p: {"name": "", "org_type": "", "income_band": "up_to_10k",
                   "charity_number": "abc", "company_number": "", "website": "not a site",
                   "description": "We run a food bank."},
        ["Enter the name of your organisation", "Select what kind of organisation",
         "charity number", "Enter a website address in the correct format"],
        kept=["not a site", "We run a food bank."]),
    "create an account": Case(
        AccountForm,
        lambda p: "/account/register", lambda p: None,
        lambda p: {"name": "", "email": "not-an-email", "password": "password"},
        ["Enter your full name", "Enter an email address in the correct format",
         "Password must be 12 characters or more"],
        kept=["not-an-email"]),
    "raise a concern signed out": Case(
        SignedOutConcernForm,
        lambda p: f"/partnerships/{p.mous.partnership.slug}/concerns/new", lambda p: None,
        lambda p: {"category": "", "details": "", "about": "", "publish": "yes",
                   "show_name": "yes", "name": "", "email": "not-an-address",
                   "website": ""},
        ["Select what your concern is about", "Enter what happened",
         "Enter your name, or choose not to show it publicly",
         "Enter an email address in the correct format"],
        kept=["not-an-address"]),
    "raise a concern": Case(
        ConcernForm,
        lambda p: f"/partnerships/{p.mous.partnership.slug}/concerns/new", lambda p: p.convenor,
        lambda p: {"category": "", "details": "x" * 5001, "about": "", "publish": "yes",
                   "show_name": ""},
        ["Select what your concern is about", "What happened must be 5000 characters",
         "Select whether we should show your name"]),
    "change your password": Case(
        ChangePasswordForm,
        lambda p: "/account/password", lambda p: p.convenor,
        lambda p: {"current_password": "not my password", "password": "short"},
        ["Your current password is not right", "Password must be 12 characters or more"]),
}


def summary(page: str) -> list[tuple[str, str]]:
    """The error summary's (field id, message) pairs, in the order listed."""
    match = SUMMARY_RE.search(page)
    assert match, "no error summary"
    return [(target, html.unescape(re.sub(r"\s+", " ", text)).strip())
            for target, text in LINK_RE.findall(match.group(0))]


def assert_in_page_order(page: str, listed: list[tuple[str, str]]) -> None:
    """Each summary link leads to an element on the page, and they come in the order
    the summary lists them."""
    body = page[SUMMARY_RE.search(page).end():]  # type: ignore[union-attr]
    positions = []
    for target, message in listed:
        found = re.search(rf'\bid="{re.escape(target)}"', body)
        assert found, f"the summary links to #{target} ({message}), not on the page"
        positions.append(found.start())
    assert positions == sorted(positions), f"summary not in page order: {listed}"


@pytest.mark.parametrize("name", list(CASES))
def test_every_mistake_is_listed_at_once_in_page_order(name: str, client: Any, auth: Any,
                                                       place: Place) -> None:
    case = CASES[name]
    user = case.user(place)
    if user is not None:
        auth.login(user)
    url = case.url(place)
    response = client.submit(url, case.payload(place))
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    listed = summary(page)
    texts = [message for _, message in listed]
    assert len(texts) == len(case.messages), texts
    for expected, shown in zip(case.messages, texts, strict=True):
        assert expected in shown, f"{name}: expected {expected!r} in order, got {texts}"
    assert_in_page_order(page, listed)
    for value in case.kept:
        assert html.escape(value, quote=False) in page, f"{name}: {value!r} was lost"


def _form_classes() -> list[type[BaseForm]]:
    for module in pkgutil.walk_packages(partnerships.__path__, "partnerships."):
        importlib.import_module(module.name)
    found: list[type[BaseForm]] = []
    todo = [BaseForm]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("partnerships."):
                found.append(sub)
            todo.append(sub)
    return found


def test_every_form_with_checks_across_fields_has_a_case() -> None:
    """A new form with a ``check`` or fields that depend on a choice needs a row in
    ``CASES``; no form may override ``validate`` (it would skip the shared order:
    every field, then every check across fields)."""
    covered = {case.form for case in CASES.values()}
    missing, overriding = [], []
    for cls in _form_classes():
        if "validate" in vars(cls):
            overriding.append(cls.__qualname__)
        has_checks = cls.check is not BaseForm.check or bool(cls.depends_on)
        if has_checks and cls not in covered and cls is not MeetingForm:
            missing.append(f"{cls.__module__}.{cls.__qualname__}")
    assert not overriding, f"forms overriding validate (use check): {overriding}"
    assert not missing, f"forms with checks across fields but no case in CASES: {missing}"


def test_fields_that_do_not_apply_are_ignored(client: Any, auth: Any, place: Place) -> None:
    """A venue for an online meeting and a joining link for one in a room are neither
    checked nor saved; nor is a repeat pattern's detail for a one-off meeting."""
    from partnerships.extensions import db
    from partnerships.meetings.models import Meeting

    auth.login(place.convenor)
    response = client.submit(f"{place.forum_base}/meetings/new", {
        **MEETING_MISTAKES, "title": "Room only", "end": "15:00", "format": "in_person",
        "venue_name": "Civic Centre", "venue_address": "1 Market Square",
        "joining_url": "http://not-checked", "capacity": "", "repeat": "",
        "interval_weeks": "banana", "until": _date("99", "", ""), "count": "x"})
    assert response.status_code == 303, summary(response.get_data(as_text=True))
    meeting = db.session.scalar(db.select(Meeting).where(Meeting.title == "Room only"))
    assert meeting is not None and meeting.joining_url == "" and meeting.series_id is None


def test_services_keep_their_own_checks(app: Any, place: Place) -> None:
    """A direct call (or a post that skips the form) meets the same rules, the first
    problem at a time: here an online meeting without a joining link."""
    from datetime import date, time

    from partnerships.errors import ValidationError
    from partnerships.forums.models import Visibility
    from partnerships.meetings.models import MeetingFormat
    from partnerships.meetings.scheduling import MeetingDetails, schedule

    details = MeetingDetails(title="Online catch-up", day=date(2027, 3, 9),
                             start=time(10), end=time(11), format=MeetingFormat.ONLINE,
                             visibility=Visibility.PUBLIC)
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        schedule(place.convenor, place.forum, details)
    assert refused.value.field == "joining_url"
    assert refused.value.message == "Enter the joining link for an online or hybrid meeting"
