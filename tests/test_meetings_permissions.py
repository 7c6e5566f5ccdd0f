"""Who may use each meeting route, as a table: anonymous visitors, signed-in strangers,
forum members, people registered for the meeting who are not members, banned people,
convenors, officers of this partnership, officers of another partnership and site
admins, for a public and a members-only meeting. Refused requests change nothing.

Each table runs for a forum's meetings and for the partnership's own meetings (issue
15). For the latter "member" is a person of a member organisation (in no forum), the
organisers are the officers and site admins, and the forum's convenor and the person
barred from the forum are outsiders like any other.

The agenda routes have their own table in ``test_meetings_agenda.py``; the coverage
test here checks that the two tables together reach every ``meetings.*`` endpoint and
method. Then: members-only meetings, their joining links, papers and draft minutes
reach only those allowed, on pages, files and calendar feeds (public and personal).

The rules (from the issue): organisers (convenors, the partnership's officers, site
admins) manage; members see members-only meetings; registration needs a signed-in
person who can see the meeting and is not banned; action pages are for the owner,
admins of the owning organisation, organisers, and whoever can read the published
minutes. A members-only meeting asks a signed-out visitor to sign in, and tells a
signed-in outsider (403) whose meeting it is, never its title or content; an action of
draft minutes stays a 404 to signed-in people who can see the meeting.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships import uploads
from partnerships.audit import AuditEvent
from partnerships.extensions import db
from partnerships.forums.models import ForumBan, ForumMember, ForumMemberStatus
from partnerships.mail import OutboxMessage
from partnerships.meetings import agenda, feeds
from partnerships.meetings.models import (
    ActionItem,
    ActionUpdate,
    AgendaItem,
    AgendaStatus,
    CalendarToken,
    Decision,
    ItemRequest,
    Meeting,
    MeetingFormat,
    MinutesStatus,
    Paper,
    Registration,
    RegistrationStatus,
    Response,
)
from tests import snapshots
from tests.test_meetings_agenda import PDF
from tests.test_meetings_agenda import ROUTES as AGENDA_ROUTES

SIGN_IN = "/account/sign-in"
TOKEN_PAGE = "/account/sign-out"  # any signed-in page with a CSRF-protected form
P = "/partnerships/northbridge-together"
F = P + "/forums/vcse-alliance"

WHO = ["anonymous", "stranger", "member", "registrant", "banned", "convenor", "officer",
       "other officer", "admin"]
MANAGERS = {"convenor", "officer", "admin"}
INSIDERS = MANAGERS | {"member"}
# The partnership's own meetings: its officers (and site admins) organise them; the
# people of its member organisations are their insiders.
OFFICERS = {"officer", "admin"}
PARTNERSHIP_INSIDERS = OFFICERS | {"member"}
OWNER = "member"  # owns both actions

ROOM = "zqsecretroom"  # in the joining link
DRAFT = "zqdraftminutes"  # in the draft minutes
CLOSED = "zqclosed"  # in every title and text of the members-only meetings

# (method, path, kind). Placeholders are filled from the world fixture.
ROUTES: list[tuple[str, str, str]] = [
    # Lists and feeds anyone may read.
    ("GET", P + "/meetings/", "public"),
    ("GET", F + "/meetings/", "public"),
    ("GET", P + "/calendar.ics", "public"),
    ("GET", F + "/calendar.ics", "public"),
    ("GET", "/calendar/{token}.ics", "public"),  # the secret token is the key
    ("GET", "/calendar/{bad_token}.ics", "missing"),
    # Signed-in people's own pages.
    ("GET", "/my/meetings", "signed-in"),
    ("GET", "/my/actions", "signed-in"),
    ("POST", "/my/meetings/calendar", "own"),
    ("GET", "/my/meetings/calendar/reset", "signed-in"),
    ("POST", "/my/meetings/calendar/reset", "own"),
    # The meeting.
    ("GET", "/meetings/{future}/", "read"),
    ("GET", "/meetings/{past}/", "read"),
    ("GET", "/meetings/{future}.ics", "read"),
    # Scheduling and changes.
    ("GET", F + "/meetings/new", "schedule"),
    ("POST", F + "/meetings/new", "schedule"),
    ("GET", P + "/meetings/new", "schedule-partnership"),
    ("POST", P + "/meetings/new", "schedule-partnership"),
    ("GET", "/meetings/{future}/edit", "manage"),
    ("POST", "/meetings/{future}/edit", "manage"),
    ("GET", "/meetings/{future}/cancel", "manage"),
    ("POST", "/meetings/{future}/cancel", "manage"),
    ("GET", "/meetings/{future}/postpone", "manage"),
    ("POST", "/meetings/{future}/postpone", "manage"),
    # Registration.
    ("GET", "/meetings/{future}/register", "register"),
    ("POST", "/meetings/{future}/register", "register"),
    ("POST", "/meetings/{future}/register/cancel", "unregister"),
    ("GET", "/meetings/{future}/registrations", "manage"),
    ("GET", "/meetings/{future}/registrations.csv", "manage"),
    ("POST", "/meetings/{future}/registrations/{registration}/remove", "manage"),
    # Recording the meeting that took place.
    ("GET", "/meetings/{past}/attendance", "manage"),
    ("POST", "/meetings/{past}/attendance", "manage"),
    ("POST", "/meetings/{past}/attendance/walk-in", "manage"),
    ("GET", "/meetings/{past}/minutes", "manage"),
    ("POST", "/meetings/{past}/minutes", "manage"),
    ("GET", "/meetings/{past}/minutes/publish", "manage"),
    ("POST", "/meetings/{past}/minutes/publish", "manage"),
    ("GET", "/meetings/{past}/decisions/new", "manage"),
    ("POST", "/meetings/{past}/decisions/new", "manage"),
    ("GET", "/meetings/{past}/actions/new", "manage"),
    ("POST", "/meetings/{past}/actions/new", "manage"),
    # Actions: one from draft minutes, one from published minutes; both owned by the member.
    ("GET", "/actions/{draft_action}", "draft-action"),
    ("POST", "/actions/{draft_action}", "draft-action"),
    ("GET", "/actions/{draft_action}/edit", "edit-draft-action"),
    ("POST", "/actions/{draft_action}/edit", "edit-draft-action"),
    ("GET", "/actions/{published_action}", "published-action"),
    ("POST", "/actions/{published_action}", "published-action"),
    ("GET", "/actions/{published_action}/edit", "manage"),
    ("POST", "/actions/{published_action}/edit", "manage"),
    # The paper (also in the agenda table), for the boundary on a published agenda.
    ("GET", "/meetings/{future}/papers/{paper}", "read"),
]

# A form that every refused POST above would accept if the refusal were missing (the
# world adds an attendance mark and the action's owner).
HIJACK: dict[str, Any] = {
    "title": "Hijacked", "description": "Hijacked", "day": ["9", "3", "2031"],
    "start": "10:00", "end": "12:00", "format": "hybrid", "venue_name": "Elsewhere",
    "venue_address": "1 Nowhere Street", "joining_url": "https://evil.example.org/x",
    "visibility": "public", "repeat": "", "scope": "this", "reason": "Hijacked",
    "response": "online", "access_requirements": "", "name": "Intruder",
    "organisation": "", "summary": "Hijacked minutes", "text": "Hijacked decision",
    "body": "Hijacked update", "status": "done",
}


def expected(kind: str, who: str, method: str, public: bool, *,
             managers: set[str] = MANAGERS, insiders: set[str] = INSIDERS,
             barred: bool = True) -> int | None:
    """The status each person should get; None where the request would succeed and
    change something (the journeys in test_meetings*.py cover those). ``managers``
    and ``insiders`` are the meeting host's; ``barred``: "banned" is barred from it."""
    get = method == "GET"
    sees = public or who in insiders
    anonymous = who == "anonymous"
    # What someone who may not see a members-only meeting gets: sign in first, or the
    # 403 page saying whose meeting it is (never its title or content).
    refused = 302 if anonymous else 403
    if kind == "public":
        return 200
    if kind == "missing":
        return 404
    if kind == "read":
        return 200 if sees else refused
    if kind == "draft-action" and get:
        # Draft minutes: the organisers and the action's owner only, whoever else asks
        # (sign in first: it may be theirs; a meeting they can see: 404, a draft).
        return 200 if who in managers | {OWNER} else (404 if sees and not anonymous
                                                      else refused)
    if kind == "published-action" and get:
        return 200 if sees else refused
    if anonymous:
        return 302  # signing in comes first (the same for ids that do not exist)
    if kind == "signed-in":
        return 200
    if kind == "own":
        return None  # their own calendar link
    if kind == "schedule":  # the forum is public: strangers know it exists
        return (200 if get else None) if who in MANAGERS else 403
    if kind == "schedule-partnership":  # the partnership's own meetings: its officers
        return (200 if get else None) if who in OFFICERS else 403
    if kind == "draft-action":
        return None if who in managers | {OWNER} else (404 if sees else 403)
    if kind == "edit-draft-action":
        if who in managers:
            return 200 if get else None
        return 403 if who == OWNER or not sees else 404
    if not sees:
        return 403
    if kind == "published-action":
        return None if who in managers | {OWNER} else 403
    if kind == "register":
        if who == "banned" and barred:
            return 403
        return 200 if get else None
    if kind == "unregister":
        # Only the registrant has something to cancel; the others are sent back.
        return None if who == "registrant" else 303
    assert kind == "manage", kind
    if who in managers:
        return 200 if get else None
    return 403


def _paper(meeting: Meeting, title: str) -> Paper:
    item = AgendaItem(meeting_id=meeting.id, position=1, title="Budget", minutes=DRAFT)
    db.session.add(item)
    db.session.flush()
    stored = uploads.save(uploads.FileStorage(stream=io.BytesIO(PDF), filename="b.pdf"),
                          agenda.PAPER_KINDS)
    paper = Paper(item_id=item.id, title=title, original_filename="budget.pdf",
                  stored_name=stored.stored_name, content_type=stored.content_type,
                  size_bytes=stored.size, sha256=stored.sha256)
    db.session.add(paper)
    db.session.flush()
    return paper


@pytest.fixture(params=[True, False, (True, "partnership"), (False, "partnership")],
                ids=["public", "members-only", "partnership-public",
                     "partnership-members-only"])
def world(request, app, make_user, make_partnership, make_forum, make_organisation,
          make_meeting) -> SimpleNamespace:
    """Built once per worker and kind, copied into each test's database
    (tests/snapshots.py)."""
    return snapshots.reuse((__name__, request.param), lambda: _build_world(
        request, app, make_user, make_partnership, make_forum, make_organisation,
        make_meeting))


def _build_world(request, app, make_user, make_partnership, make_forum, make_organisation,
                 make_meeting) -> SimpleNamespace:
    """A public forum of Northbridge Together with three meetings, all public or all
    members-only: ``future`` (hybrid, agenda published with a paper, a non-member
    registered, an item with draft minutes), ``past`` (held, draft minutes, an action)
    and ``done`` (held, published minutes, an action). Everyone has a calendar link.
    With "partnership" the three are meetings of the partnership itself (the forum is
    still there, its convenor and barred person outsiders to them), and "member" is a
    person of a member organisation."""
    public, host_kind = (request.param if isinstance(request.param, tuple)
                         else (request.param, "forum"))
    label = "Open" if public else "Zqclosed"
    users = {
        "stranger": make_user("Sam Stranger"),
        "member": make_user("Mo Member"),
        "registrant": make_user("Rita Registrant"),
        "banned": make_user("Bob Banned"),
        "convenor": make_user("Carla Convenor"),
        "officer": make_user("Olive Officer"),
        "other officer": make_user("Oscar Elsewhere"),
        "admin": make_user("Ada Admin", site_admin=True),
    }
    partnership = make_partnership(officers=[users["officer"]], members=(
        [make_organisation("Northbridge CVS", members=[users["member"]])]
        if host_kind == "partnership" else []))
    make_partnership("Eastshire Health", officers=[users["other officer"]])
    forum = make_forum(partnership, "VCSE Alliance", convenors=[users["convenor"]],
                       members=[users["member"]])
    db.session.add_all([
        ForumMember(forum_id=forum.id, user_id=users["banned"].id,
                    status=ForumMemberStatus.REMOVED, reason="Spam"),
        ForumBan(forum_id=forum.id, user_id=users["banned"].id, reason="Spam"),
    ])
    host = forum if host_kind == "forum" else partnership
    future = make_meeting(host, f"{label} spring meeting", public=public,
                          format=MeetingFormat.HYBRID,
                          joining_url=f"https://meet.example.org/{ROOM}",
                          agenda_status=AgendaStatus.PUBLISHED,
                          agenda_published_at=datetime.now(UTC), notice_met=True)
    past = make_meeting(host, f"{label} March meeting", public=public,
                        starts_in=timedelta(days=-3), minutes_status=MinutesStatus.DRAFT,
                        minutes_summary=f"{DRAFT} we agreed things")
    done = make_meeting(host, f"{label} February meeting", public=public,
                        starts_in=timedelta(days=-30), minutes_status=MinutesStatus.PUBLISHED,
                        minutes_summary=f"{label} published minutes",
                        minutes_published_at=datetime.now(UTC))
    paper = _paper(future, f"{label} budget paper")
    registration = Registration(meeting_id=future.id, user_id=users["registrant"].id,
                                response=Response.ONLINE,
                                status=RegistrationStatus.CONFIRMED)
    came = Registration(meeting_id=past.id, user_id=users["registrant"].id,
                        response=Response.IN_PERSON, status=RegistrationStatus.CONFIRMED)
    db.session.add_all([registration, came])
    actions = {}
    for name, meeting in (("draft_action", past), ("published_action", done)):
        action = ActionItem(meeting_id=meeting.id, forum_id=meeting.forum_id,
                            description=f"{label} {name.replace('_', ' ')}",
                            owner_id=users[OWNER].id)
        db.session.add(action)
        actions[name] = action
    db.session.commit()
    tokens = {}
    with app.test_request_context():
        for who, user in users.items():
            tokens[who] = feeds.token_of(feeds.create_token(user))
        db.session.commit()
    partnership_host = host_kind == "partnership"
    return SimpleNamespace(
        public=public, label=label, users=users, forum=forum, host=host,
        partnership_host=partnership_host,
        managers=OFFICERS if partnership_host else MANAGERS,
        insiders=PARTNERSHIP_INSIDERS if partnership_host else INSIDERS,
        organiser=users["officer" if partnership_host else "convenor"],
        future=future, past=past,
        done=done, paper=paper, tokens=tokens,
        form={**HIJACK, f"attendance-{came.id}": "present", "owner_id": str(users[OWNER].id)},
        ids={"future": future.id, "past": past.id, "done": done.id, "paper": paper.id,
             "registration": registration.id, "token": tokens["member"],
             "bad_token": tokens["member"][:-1] + ("A" if tokens["member"][-1] != "A"
                                                   else "B"),
             **{name: action.id for name, action in actions.items()}},
    )


def _snapshot() -> tuple[Any, ...]:
    """Everything a meeting route could change, and the audit log and outbox."""
    db.session.expire_all()

    def rows(*columns: Any) -> tuple[Any, ...]:
        return tuple(db.session.execute(select(*columns).order_by(columns[0])).all())

    def count(model: Any) -> int:
        return db.session.scalar(select(func.count()).select_from(model)) or 0

    return (
        rows(Meeting.id, Meeting.title, Meeting.status, Meeting.sequence, Meeting.starts_at,
             Meeting.visibility, Meeting.minutes_status, Meeting.minutes_summary,
             Meeting.places_taken),
        rows(Registration.id, Registration.user_id, Registration.status,
             Registration.response, Registration.attendance),
        rows(ActionItem.id, ActionItem.status, ActionItem.description, ActionItem.owner_id),
        rows(AgendaItem.id, AgendaItem.minutes),
        rows(CalendarToken.user_id, CalendarToken.token_hash),
        count(Decision), count(ActionUpdate), count(Paper), count(ItemRequest),
        count(AuditEvent), count(OutboxMessage),
    )


def _call(client: Any, method: str, url: str, form: dict[str, Any]) -> Any:
    return client.get(url) if method == "GET" else client.post(url, data=form)


@pytest.mark.parametrize("who", WHO)
def test_every_meeting_route_answers_each_kind_of_person_as_it_should(
        client, auth, world, who):
    if who != "anonymous":
        auth.login(world.users[who])
    # One CSRF token for the session: refusals must not hinge on a missing token.
    form = {**world.form,
            "csrf_token": client.csrf_token(SIGN_IN if who == "anonymous" else TOKEN_PAGE)}
    before = _snapshot()
    wrong = []
    checked = 0
    for method, template, kind in ROUTES:
        status = expected(kind, who, method, world.public, managers=world.managers,
                          insiders=world.insiders, barred=not world.partnership_host)
        if status is None:
            continue
        url = template.format(**world.ids)
        with _call(client, method, url, form) as response:
            if response.status_code != status:
                wrong.append(f"{method} {url} ({kind}): {response.status_code}, "
                             f"expected {status}")
            elif status == 302 and not response.headers["Location"].startswith(SIGN_IN):
                wrong.append(f"{method} {url}: redirected to {response.headers['Location']}")
            elif status == 200 and "/papers/" in url:
                assert response.data == PDF
            if not (world.public or who in world.insiders) and CLOSED in response.get_data(
                    as_text=True):
                wrong.append(f"{method} {url}: shows the members-only meeting to the {who}")
        checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked >= 15
    assert _snapshot() == before, "a refused request changed something"


def test_the_tables_cover_every_meeting_route_and_method(app):
    """A new ``meetings.*`` route (or method) must be added to ``ROUTES`` here or to the
    agenda table in test_meetings_agenda.py."""
    adapter = app.url_map.bind("localhost")

    def endpoint(method: str, url: str) -> str:
        url = re.sub(r"\{\w*token\}", "abc", url)
        return adapter.match(re.sub(r"\{\w+\}", "1", url), method=method)[0]

    covered = {(endpoint(method, url), method) for method, url, _ in ROUTES}
    covered |= {(endpoint(method, "/meetings/1" + path), method)
                for method, path, _ in AGENDA_ROUTES}
    registered = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("meetings.")
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(registered) >= 50
    assert registered <= covered, sorted(registered - covered)


# --- Secrets: joining links, papers, draft minutes, members-only meetings ----------------


def _body(client: Any, url: str) -> tuple[int, str]:
    with client.get(url) as response:
        return response.status_code, response.get_data(as_text=True).lower()


@pytest.mark.parametrize("who", WHO)
def test_joining_links_papers_draft_minutes_and_members_only_meetings_reach_only_insiders(
        client, auth, world, make_meeting, who):
    """Joining link: members and organisers, and on a public meeting a confirmed
    registrant too. Paper: whoever can see the meeting. Draft minutes: organisers only.
    A members-only meeting: nowhere (lists, the partnership and forum pages, My
    meetings, My actions, public calendar feeds) for anyone outside the forum, and the
    public feeds never carry it, whoever asks."""
    # A public meeting after them: its agenda carries the earlier meetings' open actions.
    summer = make_meeting(world.host, "Open summer meeting", starts_in=timedelta(days=20),
                          agenda_status=AgendaStatus.PUBLISHED,
                          agenda_published_at=datetime.now(UTC))
    if who != "anonymous":
        auth.login(world.users[who])
    ids = world.ids
    sees = world.public or who in world.insiders
    joining = who in world.insiders or (world.public and who == "registrant")
    refused = 302 if who == "anonymous" else 403  # sign in first, or whose meeting it is

    status, page = _body(client, f"/meetings/{ids['future']}/")
    assert status == (200 if sees else refused)
    assert (ROOM in page) is joining, "the meeting page and its add-to-calendar links"
    status, ics = _body(client, f"/meetings/{ids['future']}.ics")
    assert status == (200 if sees else refused)
    assert (ROOM in ics) is joining, "the meeting's .ics"

    with client.get(f"/meetings/{ids['future']}/papers/{ids['paper']}") as download:
        assert download.status_code == (200 if sees else refused)
        assert (download.data == PDF) is sees
    with client.get(f"/meetings/{ids['done']}/papers/{ids['paper']}") as download:
        assert download.status_code == (404 if sees else refused), (
            "a paper under another meeting's address")

    # Draft minutes (summary and per-item minutes) only on the organisers' pages.
    drafts_seen = [url for url in (
        f"/meetings/{ids['past']}/", f"/meetings/{ids['past']}/minutes",
        f"/meetings/{ids['future']}/", f"/actions/{ids['draft_action']}",
        f"/meetings/{ids['past']}.ics", "/my/actions", "/my/meetings",
        f"/calendar/{world.tokens['member']}.ics",
    ) if DRAFT in _body(client, url)[1]]
    if who in world.managers:
        assert f"/meetings/{ids['past']}/minutes" in drafts_seen
        assert set(drafts_seen) <= {f"/meetings/{ids['past']}/",
                                    f"/meetings/{ids['past']}/minutes",
                                    f"/meetings/{ids['future']}/"}
    else:
        assert drafts_seen == [], "draft minutes reached someone who is not an organiser"

    title = f"{world.label} spring meeting".lower()
    if not world.public:
        pages = [P + "/", P + "/meetings/", P + "/meetings/?show=past", F + "/",
                 F + "/meetings/", f"/meetings/{summer.id}/", f"/meetings/{summer.id}.ics"]
        if who != "anonymous":  # the registrant is registered for two of them
            pages += ["/my/meetings", "/my/meetings?show=past", "/my/actions"]
        leaks = []
        for url in pages:
            status, page = _body(client, url)
            assert status == 200, url
            if not sees and (CLOSED in page or ROOM in page):
                leaks.append(url)
        assert leaks == [], "a members-only meeting reached someone outside the forum"
        if sees:  # the check can fail: whoever may see them does
            assert title in _body(client, (P if world.partnership_host else F)
                                  + "/meetings/")[1]
            assert "zqclosed february meeting" in _body(client, P + "/meetings/?show=past")[1]
            assert "zqclosed published action" in _body(client, f"/meetings/{summer.id}/")[1]
    for feed in (P + "/calendar.ics", F + "/calendar.ics"):
        status, ics = _body(client, feed)
        assert status == 200
        # The partnership's feed carries its forums' meetings and its own.
        in_feed = feed == P + "/calendar.ics" or not world.partnership_host
        assert ("open summer meeting" in ics) is in_feed, feed
        assert (title in ics) is (world.public and in_feed), feed
        assert CLOSED not in ics and ROOM not in ics, feed


def test_a_personal_feed_needs_its_token_and_carries_only_what_its_owner_may_see(
        client, auth, world):
    """The token is the only key: no sign-in is needed, and a wrong one is a 404. A
    members-only meeting is in a member's feed and in no outsider's, not even the feed
    of someone registered for it who is not a member."""
    title = f"{world.label} spring meeting".lower()
    for who, token in world.tokens.items():
        auth.logout()
        status, ics = _body(client, f"/calendar/{token}.ics")
        assert status == 200, who
        if who == "member" or (world.public and who == "registrant"):
            assert title in ics, who  # my forums, my registrations
        if not (world.public or who in world.insiders):
            assert CLOSED not in ics, f"a members-only meeting in {who}'s personal feed"
        if who not in world.insiders and ROOM in ics:
            assert world.public and who == "registrant", f"the joining link in {who}'s feed"
        assert DRAFT not in ics
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        for path in (f"/calendar/{wrong}.ics", f"/calendar/{token}x.ics",
                     f"/calendar/{token}"):
            assert client.get(path).status_code == 404, path
    # Being signed in does not stand in for the token.
    auth.login(world.users["member"])
    assert client.get("/calendar/.ics").status_code == 404
    assert client.get(f"/calendar/{world.tokens['member'][:-2]}.ics").status_code == 404


@pytest.mark.parametrize("world", [False, (False, "partnership")],
                         ids=["members-only", "partnership-members-only"], indirect=True)
def test_emails_about_a_members_only_meeting_go_to_insiders_only(
        client, auth, world, make_meeting, outbox):
    """The organisers publish an agenda, postpone and cancel members-only meetings.
    People registered who are not (or no longer) in the forum, like a member banned
    after registering, must not be emailed its title, agenda or reason, as the
    published minutes already are not."""
    users = world.users
    draft = make_meeting(world.host, "Zqclosed budget meeting", public=False,
                         starts_in=timedelta(days=30))
    db.session.add(AgendaItem(meeting_id=draft.id, position=1, title="Zqclosed budget cuts"))
    for meeting in (draft, world.future):
        for who in ("member", "banned"):
            db.session.add(Registration(meeting_id=meeting.id, user_id=users[who].id,
                                        response=Response.IN_PERSON,
                                        status=RegistrationStatus.CONFIRMED))
    db.session.add(Registration(meeting_id=draft.id, user_id=users["registrant"].id,
                                response=Response.IN_PERSON,
                                status=RegistrationStatus.CONFIRMED))
    db.session.commit()
    auth.login(world.organiser)
    for url, data in ((f"/meetings/{draft.id}/agenda/publish", {}),
                      (f"/meetings/{world.future.id}/postpone", {"reason": "Zqclosed why"}),
                      (f"/meetings/{world.future.id}/cancel", {"reason": "Zqclosed why"})):
        assert client.submit(url, data).status_code == 303, url
    assert len(outbox(users["member"].email)) == 3  # the check can fail
    outsiders = ("registrant", "banned", "convenor") if world.partnership_host else (
        "registrant", "banned")
    for who in outsiders:
        assert [m.subject for m in outbox(users[who].email)] == [], (
            f"a members-only meeting emailed to the {who}, who is not a member")
