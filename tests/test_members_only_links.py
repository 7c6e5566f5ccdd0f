"""Links from emails to members-only pages (issue 14).

Signed out, a link to a members-only meeting, discussion, MoU draft or the like leads to
the sign-in page, which says the page is for members, and then back to the page.
Signed in without access, the page (403) names the forum or partnership it belongs to
and how to join, and never the thing's title or content. Ids that do not exist are
still 404. The forum's own page tells an outsider how many members-only meetings are
coming up, without titles, and no empty calendar feed is offered.

The last tests walk the URL map: every GET page under a members-only meeting, forum,
discussion, action or MoU draft answers an outsider this way, so a new members-only page
is covered without editing this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for

from partnerships.extensions import db
from partnerships.factories import forums as forum_factories
from partnerships.factories import mous as mou_factories
from partnerships.factories import opportunities as opportunity_factories
from partnerships.forums.models import MembershipPolicy
from partnerships.meetings.models import ActionItem, AgendaItem
from tests.conftest import PASSWORD

SECRET = "zqsecret"  # in every title and text of the hidden things
SIGN_IN = "/account/sign-in"
FOR_MEMBERS = "This page is for members. Sign in and we will bring you back to it."


@dataclass
class Hidden:
    """A partnership with a public forum holding a members-only meeting, a members-only
    forum (by request) with a discussion and a meeting, one by invitation, an MoU draft,
    a draft opportunity; and the people around them."""

    slug: str
    open_forum: Any
    closed_forum: Any
    invite_forum: Any
    meeting: Any  # members-only, in the public forum
    closed_meeting: Any  # in the members-only forum
    invite_meeting: Any
    thread: Any
    action: Any
    item: Any
    mou: Any
    opportunity: Any
    member: Any
    outsider: Any
    officer: Any


@pytest.fixture
def hidden(app, make_user, make_organisation, make_partnership, make_forum, make_meeting):
    officer = make_user("Olu Officer", "olu@example.org")
    member = make_user("Mina Member", "mina@example.org")
    outsider = make_user("Owen Outsider", "owen@example.org")
    host_admin = make_user("Hana Host", "hana@example.org")
    party = make_organisation("Eastside Food Bank")
    host = make_organisation("Northbridge Council", admin=host_admin)
    partnership = make_partnership(officers=[officer], members=[party, host])
    open_forum = make_forum(partnership, "Open Forum", members=[member])
    closed_forum = make_forum(partnership, "Health Circle", public=False, members=[member])
    invite_forum = make_forum(partnership, "Inner Circle", public=False, members=[member],
                              policy=MembershipPolicy.BY_INVITATION)
    meeting = make_meeting(open_forum, f"{SECRET} budget meeting", public=False,
                           description=f"{SECRET} description")
    closed_meeting = make_meeting(closed_forum, f"{SECRET} circle meeting", public=False)
    invite_meeting = make_meeting(invite_forum, f"{SECRET} inner meeting", public=False)
    thread = forum_factories.thread(closed_forum, member, f"{SECRET} discussion title",
                                    f"{SECRET} opening post")
    item = AgendaItem(meeting_id=meeting.id, position=1, title=f"{SECRET} item")
    db.session.add(item)
    db.session.flush()
    action = ActionItem(meeting_id=meeting.id, forum_id=meeting.forum_id,
                        description=f"{SECRET} action",
                        owner_id=member.id)
    db.session.add(action)
    mou = mou_factories.draft(officer, partnership, [party, host], title=f"{SECRET} MoU title",
                              purpose=f"{SECRET} purpose")
    opportunity = opportunity_factories.opportunity(host_admin, host, publish=False,
                                                    title=f"{SECRET} opportunity")
    db.session.commit()
    return Hidden(partnership.slug, open_forum, closed_forum, invite_forum, meeting,
                  closed_meeting, invite_meeting, thread, action, item, mou, opportunity,
                  member, outsider, officer)


def _page(response: Any) -> str:
    return response.get_data(as_text=True)


def _thread_url(hidden: Hidden) -> str:
    return (f"/partnerships/{hidden.slug}/forums/{hidden.closed_forum.slug}"
            f"/threads/{hidden.thread.id}")


# --- Signed out: sign in, then the page ------------------------------------------------------


@pytest.mark.parametrize("which", ["meeting", "thread", "action", "mou"])
def test_signed_out_link_asks_to_sign_in_as_a_member_and_comes_back(client, hidden, which):
    url = {
        "meeting": f"/meetings/{hidden.meeting.id}/",
        "thread": _thread_url(hidden),
        "action": f"/actions/{hidden.action.id}",
        "mou": f"/partnerships/{hidden.slug}/mous/{hidden.mou.id}/",
    }[which]
    who = hidden.officer if which == "mou" else hidden.member
    response = client.get(url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == SIGN_IN
    assert parse_qs(urlsplit(location).query)["next"] == [url]
    sign_in = client.get(location)
    assert sign_in.status_code == 200
    assert FOR_MEMBERS in _page(sign_in)
    assert SECRET not in _page(sign_in).lower()

    signed_in = client.submit(location, {"email": who.email, "password": PASSWORD})
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == url
    page = client.get(url)
    assert page.status_code == 200
    assert SECRET in _page(page)


def test_signed_out_query_string_is_kept_for_after_signing_in(client, hidden):
    url = f"/partnerships/{hidden.slug}/mous/{hidden.mou.id}/print?version=1"
    response = client.get(url)
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [url]


def test_signed_out_htmx_request_sends_the_whole_page_to_sign_in(client, hidden):
    response = client.get(f"/meetings/{hidden.meeting.id}/", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith(SIGN_IN + "?next=")


def test_draft_opportunity_link_asks_to_sign_in_then_stays_hidden_from_others(
        client, auth, hidden):
    """A draft is the host's: signed out, sign in first (the link may be the host's);
    signed in as someone else, it stays "Page not found"."""
    url = f"/opportunities/{hidden.opportunity.id}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(SIGN_IN)
    auth.login(hidden.outsider)
    refused = client.get(url)
    assert refused.status_code == 404
    assert SECRET not in _page(refused)


# --- Signed in without access: whose it is, how to join, nothing of it -------------------


def test_signed_in_outsider_is_told_whose_meeting_it_is_and_can_ask_to_join(
        client, auth, hidden):
    auth.login(hidden.outsider)
    response = client.get(f"/meetings/{hidden.meeting.id}/")
    assert response.status_code == 403
    page = _page(response)
    assert SECRET not in page
    assert "This meeting is for members of Open Forum" in page
    join = f"/partnerships/{hidden.slug}/forums/{hidden.open_forum.slug}/join"
    assert re.search(rf'<a href="{join}"[^>]*class="govuk-button"[^>]*>\s*Ask to join', page)
    assert f'href="/partnerships/{hidden.slug}/forums/{hidden.open_forum.slug}/"' in page
    assert "owen@example.org" in page  # signed in as someone else? sign out and in again


def test_signed_in_outsider_of_a_members_only_forum_sees_neither_thread_nor_its_title(
        client, auth, hidden):
    auth.login(hidden.outsider)
    response = client.get(_thread_url(hidden))
    assert response.status_code == 403
    page = _page(response)
    assert SECRET not in page
    assert "This discussion is for members of Health Circle" in page
    assert "Ask to join" in page


def test_forum_by_invitation_says_so_instead_of_offering_to_join(client, auth, hidden):
    auth.login(hidden.outsider)
    response = client.get(f"/meetings/{hidden.invite_meeting.id}/")
    assert response.status_code == 403
    page = _page(response)
    assert SECRET not in page
    assert "Inner Circle" in page
    assert "by invitation only" in page
    assert "Ask to join" not in page


def test_someone_who_has_asked_to_join_is_told_to_wait(client, auth, hidden):
    auth.login(hidden.outsider)
    join = f"/partnerships/{hidden.slug}/forums/{hidden.closed_forum.slug}/join"
    client.submit(join, {"introduction": "I run the food bank."})
    response = client.get(f"/meetings/{hidden.closed_meeting.id}/")
    assert response.status_code == 403
    page = _page(response)
    assert "You have asked to join" in page
    assert "Ask to join" not in page
    assert SECRET not in page


def test_mou_draft_refusal_names_the_partnership_but_not_the_mou(client, auth, hidden):
    auth.login(hidden.outsider)
    for url in (f"/partnerships/{hidden.slug}/mous/{hidden.mou.id}/",
                f"/partnerships/{hidden.slug}/mous/{hidden.mou.id}/versions/1/",
                f"/partnerships/{hidden.slug}/mous/{hidden.mou.id}/print"):
        response = client.get(url)
        assert response.status_code == 403, url
        page = _page(response)
        assert SECRET not in page, url
        assert "Northbridge Together" in page, url


def test_members_only_refusal_in_htmx_and_json_shows_nothing_of_the_meeting(
        client, auth, hidden):
    auth.login(hidden.outsider)
    fragment = client.get(f"/meetings/{hidden.meeting.id}/", headers={"HX-Request": "true"})
    assert fragment.status_code == 403
    assert "<html" not in _page(fragment)
    assert "Open Forum" in _page(fragment) and SECRET not in _page(fragment)
    as_json = client.get(f"/meetings/{hidden.meeting.id}/",
                         headers={"Accept": "application/json"})
    assert as_json.status_code == 403
    assert SECRET not in _page(as_json)


# --- Things that do not exist ------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_pages_that_do_not_exist_are_still_not_found(client, auth, hidden, signed_in):
    if signed_in:
        auth.login(hidden.outsider)
    missing = 10**6
    for url in (f"/meetings/{missing}/", f"/meetings/{missing}.ics",
                f"/actions/{missing}", f"/partnerships/{hidden.slug}/mous/{missing}/",
                f"/partnerships/{hidden.slug}/forums/no-such-forum/members",
                f"/partnerships/no-such/forums/{hidden.closed_forum.slug}/threads/1",
                f"/opportunities/{missing}/"):
        assert client.get(url).status_code == 404, url


# --- The forum's page and its meetings, for an outsider ------------------------------------


def test_forum_page_counts_members_only_meetings_without_titles(client, auth, hidden):
    forum_url = f"/partnerships/{hidden.slug}/forums/{hidden.closed_forum.slug}/"
    for who in (None, hidden.outsider):
        if who is not None:
            auth.login(who)
        page = _page(client.get(forum_url))
        assert SECRET not in page
        assert "No meetings are scheduled" not in page
        assert "1 members-only meeting is coming up" in page
        meetings = _page(client.get(forum_url + "meetings/"))
        assert SECRET not in meetings
        assert "1 members-only meeting is coming up" in meetings
        assert "No meetings are scheduled" not in meetings
        assert "Subscribe to these meetings" not in meetings, "an empty feed offered"
    auth.login(hidden.member)
    page = _page(client.get(forum_url))
    assert f"{SECRET} circle meeting" in page
    assert "members-only meeting is coming up" not in page


def test_public_forum_still_offers_its_feed_and_says_when_nothing_is_scheduled(
        client, app, make_user, make_partnership, make_forum):
    partnership = make_partnership(slug="quiet")
    forum = make_forum(partnership, "Quiet Forum")
    url = f"/partnerships/quiet/forums/{forum.slug}/"
    assert "No meetings are scheduled" in _page(client.get(url))
    assert "Subscribe to these meetings" in _page(client.get(url + "meetings/"))


def test_public_lists_feeds_and_exports_still_leave_members_only_things_out(
        client, auth, hidden):
    auth.login(hidden.outsider)
    for url in (f"/partnerships/{hidden.slug}/meetings/",
                f"/partnerships/{hidden.slug}/calendar.ics",
                f"/partnerships/{hidden.slug}/forums/{hidden.open_forum.slug}/calendar.ics",
                f"/partnerships/{hidden.slug}/forums/{hidden.closed_forum.slug}/calendar.ics",
                f"/partnerships/{hidden.slug}/mous/",
                f"/partnerships/{hidden.slug}/mous.json",
                f"/partnerships/{hidden.slug}/mous.csv",
                f"/partnerships/{hidden.slug}/",
                "/opportunities/",
                "/my/meetings"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in _page(response), url


# --- Every members-only page, from the URL map ------------------------------------------------

# Pages under these arguments belong to a hidden thing (with the fixture's values).
HIDDEN_ARGS = {"meeting_id", "thread_id", "action_id", "mou_id", "forum_slug"}
# Pages under a members-only forum that are public: its own page, joining it, its
# meetings list and public calendar feed (which leave members-only meetings out).
PUBLIC_ENDPOINTS = {"forums.show", "forums.join", "meetings.forum_meetings",
                    "meetings.forum_feed"}


def _hidden_pages(app: Any, hidden: Hidden, forum: Any, meeting: Any) -> list[str]:
    """Every GET page in the URL map whose arguments include a hidden thing, built with
    the fixture's ids (any other id argument: an id that does not exist, which must not
    change the answer, since the container is checked first)."""
    values = {"slug": hidden.slug, "forum_slug": forum.slug, "meeting_id": meeting.id,
              "thread_id": hidden.thread.id, "action_id": hidden.action.id,
              "mou_id": hidden.mou.id, "number": 1, "item_id": hidden.item.id}
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not (rule.arguments & HIDDEN_ARGS):
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if rule.rule.startswith("/api/"):  # open data: hidden things are 404 there,
            continue  # for anyone (tests/test_opendata.py), not a page to sign in to
        args = {name: values.get(name, 10**6) for name in rule.arguments}
        if "action" in args:  # thread moderation: pin, lock ... (POST only anyway)
            continue
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **args))
    return urls


def test_every_members_only_page_asks_the_signed_out_to_sign_in(client, app, hidden):
    urls = _hidden_pages(app, hidden, hidden.closed_forum, hidden.closed_meeting)
    assert len(urls) >= 30, urls
    wrong = []
    for url in urls:
        response = client.get(url)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location.startswith(SIGN_IN):
            wrong.append(f"{url}: {response.status_code} {location}")
        elif SECRET in _page(response):
            wrong.append(f"{url}: shows the hidden thing")
    assert not wrong, "\n".join(wrong)


def test_every_members_only_page_tells_a_signed_in_outsider_whose_it_is(
        client, app, auth, hidden):
    auth.login(hidden.outsider)
    urls = _hidden_pages(app, hidden, hidden.closed_forum, hidden.closed_meeting)
    wrong = []
    for url in urls:
        response = client.get(url)
        page = _page(response)
        if response.status_code != 403:
            wrong.append(f"{url}: {response.status_code}")
        elif SECRET in page:
            wrong.append(f"{url}: shows the hidden thing")
        elif "Health Circle" not in page and "Northbridge Together" not in page:
            wrong.append(f"{url}: does not say whose it is")
    assert not wrong, "\n".join(wrong)


def test_members_only_pages_still_open_for_members(client, app, auth, hidden):
    """The other side of the boundary: a member reads the meeting and discussion pages
    (the organisers' pages stay 403 for them, as before)."""
    auth.login(hidden.member)
    for url in (f"/meetings/{hidden.closed_meeting.id}/", _thread_url(hidden),
                f"/partnerships/{hidden.slug}/forums/{hidden.closed_forum.slug}/members"):
        response = client.get(url)
        assert response.status_code == 200, url
