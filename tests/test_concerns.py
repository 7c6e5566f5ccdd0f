"""Raising a concern about how a partnership engages: the journeys signed in and signed
out, who may see and act, bad input, consent and publication, the private link, a race
between two officers, and the figures for the engagement record."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from partnerships import clock
from partnerships.concerns import services, stats
from partnerships.concerns.models import Concern, ConcernCategory, ConcernStatus
from partnerships.extensions import db
from partnerships.mail import OutboxMessage
from tests.conftest import link_in

SECRET_EMAIL = "private.person@example.net"


@pytest.fixture
def place(app: Any, make_user: Any, make_partnership: Any) -> Any:
    class Place:
        officer = make_user("Olive Officer", "olive@council.example.org")
        other_officer = make_user("Otto Officer", "otto@council.example.org")
        raiser = make_user("Rita Raiser", "rita@example.org")
        outsider = make_user("Owen Outsider", "owen@example.org")
        admin = make_user("Sita Admin", "sita@example.org", site_admin=True)
    p = Place()
    p.partnership = make_partnership(officers=[p.officer, p.other_officer])
    p.base = f"/partnerships/{p.partnership.slug}/concerns"
    return p


def _page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _concerns() -> list[Concern]:
    return list(db.session.scalars(select(Concern).order_by(Concern.id)))


def _signed_out_payload(**changes: str) -> dict[str, str]:
    return {"category": "not_enough_notice",
            "details": "The papers arrived the night before the meeting.",
            "about": "", "publish": "yes", "show_name": "no", "name": "",
            "email": SECRET_EMAIL, "website": "", **changes}


def _raise_signed_out(client: Any, place: Any, **changes: str) -> Any:
    return client.submit(f"{place.base}/new", _signed_out_payload(**changes))


def _respond(client: Any, place: Any, concern_id: int, text: str) -> Any:
    return client.submit(f"{place.base}/{concern_id}/respond", {"reason": text})


def test_the_partnership_page_links_to_raising_a_concern(client: Any, place: Any) -> None:
    page = _page(client.get(f"/partnerships/{place.partnership.slug}/"))
    assert f'href="{place.base}/new">Raise a concern about how this partnership engages' in page


def test_signed_out_journey_through_the_private_link(client: Any, auth: Any, place: Any,
                                                     outbox: Any) -> None:
    response = _raise_signed_out(client, place)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{place.base}/sent")
    sent = _page(client.get(response.headers["Location"]))
    assert "Concern sent" in sent and SECRET_EMAIL in sent
    [concern] = _concerns()
    assert concern.raised_by_id is None and concern.anonymous and concern.consent_to_publish
    assert concern.token_hash and len(concern.token_hash) == 64
    [received] = outbox(SECRET_EMAIL)
    assert received.kind == "my_concern"
    link = link_in(received)
    assert link.startswith(f"{place.base}/follow/")
    secret = link.rsplit("/", 1)[1]
    assert secret not in concern.token_hash  # only its hash is kept
    officers = {m.to for m in outbox() if m.kind == "concerns_raised"}
    assert officers == {"olive@council.example.org", "otto@council.example.org"}
    assert "No response yet" in _page(client.get(link))

    auth.login(place.officer)
    assert client.submit(f"{place.base}/{concern.id}/acknowledge", {},
                         page=f"{place.base}/{concern.id}").status_code == 303
    assert _respond(client, place, concern.id, "We will send papers a week ahead.").status_code \
        == 303
    auth.logout()
    messages = outbox(SECRET_EMAIL)
    assert [m.subject.split(" ")[0] for m in messages] == ["We", "Your", "A"]
    assert "We will send papers a week ahead." in messages[-1].body
    followed = _page(client.get(link))
    assert "We will send papers a week ahead." in followed
    assert SECRET_EMAIL not in followed  # the follow page is the raiser's view

    public = _page(client.get(f"{place.base}/"))
    assert "The papers arrived the night before the meeting." in public
    assert "We will send papers a week ahead." in public
    assert SECRET_EMAIL not in public


def test_signed_in_journey_shows_the_name_when_asked(client: Any, auth: Any, place: Any,
                                                     outbox: Any) -> None:
    auth.login(place.raiser)
    response = client.submit(f"{place.base}/new", {
        "category": "not_listened_to", "details": "Our survey results were ignored.",
        "about": "", "publish": "yes", "show_name": "yes"})
    assert response.status_code == 303
    [concern] = _concerns()
    assert concern.raised_by_id == place.raiser.id and not concern.anonymous
    assert concern.email is None and concern.token_hash is None
    [received] = outbox("rita@example.org")
    assert link_in(received) == f"{place.base}/{concern.id}"
    assert "See your concern" in _page(client.get(f"{place.base}/sent"))
    assert "Our survey results were ignored." in _page(client.get(f"{place.base}/{concern.id}"))
    auth.login(place.officer)
    _respond(client, place, concern.id, "We have added your results to the report.")
    auth.logout()
    public = _page(client.get(f"{place.base}/"))
    assert "by Rita Raiser" in public and "rita@example.org" not in public


def test_an_anonymous_raiser_s_name_is_never_shown_publicly(client: Any, auth: Any,
                                                          place: Any) -> None:
    _raise_signed_out(client, place, name="Nadia Namesake", show_name="no")
    [concern] = _concerns()
    auth.login(place.officer)
    assert "Nadia Namesake" in _page(client.get(f"{place.base}/{concern.id}"))
    _respond(client, place, concern.id, "Thank you.")
    auth.logout()
    public = _page(client.get(f"{place.base}/"))
    assert "Thank you." in public and "Nadia Namesake" not in public


def test_a_concern_is_public_only_with_consent_after_a_response_and_not_withheld(
        client: Any, auth: Any, place: Any) -> None:
    _raise_signed_out(client, place, details="Consented one.")
    _raise_signed_out(client, place, details="Not consented one.", publish="no")
    _raise_signed_out(client, place, details="Withheld one, it names Mr Smith.")
    consented, refused, withheld = _concerns()
    public = _page(client.get(f"{place.base}/"))
    assert "one." not in public  # nothing before a response
    auth.login(place.officer)
    for concern in (consented, refused, withheld):
        assert _respond(client, place, concern.id, f"Response {concern.id}.").status_code == 303
    response = client.submit(f"{place.base}/{withheld.id}/withhold",
                             {"reason": "It names a private person."})
    assert response.status_code == 303
    # Nothing to withhold where the raiser did not consent.
    assert client.get(f"{place.base}/{refused.id}/withhold").status_code == 303
    auth.logout()
    public = _page(client.get(f"{place.base}/"))
    assert "Consented one." in public
    assert "Not consented one." not in public and "Mr Smith" not in public
    db.session.expire_all()
    assert withheld.withheld_reason == "It names a private person."


def test_all_mistakes_at_once_keep_what_was_typed_and_write_nothing(
        client: Any, place: Any, outbox: Any) -> None:
    response = client.submit(f"{place.base}/new", {
        "category": "", "details": "", "about": "", "publish": "yes", "show_name": "yes",
        "name": "", "email": "not-an-address", "website": ""})
    assert response.status_code == 422
    page = _page(response)
    summary = page[page.index("govuk-error-summary"):]
    summary = summary[:summary.index("</ul>")]
    messages = ["Select what your concern is about", "Enter what happened",
                "Enter your name, or choose not to show it publicly",
                "Enter an email address in the correct format"]
    positions = [summary.index(message) for message in messages]
    assert positions == sorted(positions)
    assert 'value="not-an-address"' in page
    assert _concerns() == [] and outbox() == []
    response = client.submit(f"{place.base}/new", _signed_out_payload(
        details="Kept words.", email=""))
    assert response.status_code == 422
    assert "Enter an email address we can reply to" in _page(response)
    assert "Kept words." in _page(response)
    assert _concerns() == []


def test_a_honeypot_filled_in_writes_nothing(client: Any, place: Any, outbox: Any) -> None:
    response = _raise_signed_out(client, place, website="http://spam.example")
    assert response.status_code == 303
    assert _concerns() == [] and outbox() == []


def test_signed_out_raising_is_rate_limited(client: Any, place: Any) -> None:
    statuses = [_raise_signed_out(client, place, details="").status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_only_meetings_and_forums_the_raiser_may_see_are_offered(
        client: Any, auth: Any, place: Any, make_forum: Any, make_meeting: Any) -> None:
    open_forum = make_forum(place.partnership, "Open Forum")
    closed = make_forum(place.partnership, "Closed Circle", public=False)
    hidden = make_meeting(closed, "Secret strategy session", public=False)
    shown = make_meeting(open_forum, "Open meeting", starts_in=timedelta(days=-3))
    page = _page(client.get(f"{place.base}/new"))
    assert "Open meeting" in page and "Open Forum" in page
    assert "Secret strategy session" not in page and "Closed Circle" not in page
    response = _raise_signed_out(client, place, about=f"meeting-{hidden.id}")
    assert response.status_code == 422 and _concerns() == []
    assert _raise_signed_out(client, place, about=f"meeting-{shown.id}").status_code == 303
    assert _concerns()[0].meeting_id == shown.id


def test_who_may_see_and_act_on_concerns(client: Any, auth: Any, place: Any) -> None:
    auth.login(place.raiser)
    client.submit(f"{place.base}/new", {"category": "other", "details": "Mine.",
                                        "about": "", "publish": "no"})
    auth.logout()
    _raise_signed_out(client, place, details="Someone else's.")
    mine, theirs = _concerns()
    # Signed out: the list and a concern's page ask to sign in.
    assert client.get(f"{place.base}/manage").status_code == 302
    assert client.get(f"{place.base}/{mine.id}").status_code == 302
    # A raiser sees their own concern, not another's, nor the list, and cannot act.
    auth.login(place.raiser)
    assert client.get(f"{place.base}/{mine.id}").status_code == 200
    assert client.get(f"{place.base}/{theirs.id}").status_code == 404
    assert client.get(f"{place.base}/manage").status_code == 403
    token = client.csrf_token(f"{place.base}/new")
    for action in ("acknowledge", "close", "respond", "withhold"):
        assert client.post(f"{place.base}/{mine.id}/{action}",
                           data={"csrf_token": token, "reason": "x"}).status_code == 403
    auth.login(place.outsider)
    assert client.get(f"{place.base}/manage").status_code == 403
    assert client.get(f"{place.base}/{mine.id}").status_code == 404
    # Officers and site admins see the list, open first, oldest first.
    for person in (place.officer, place.admin):
        auth.login(person)
        page = _page(client.get(f"{place.base}/manage"))
        assert "2 open" in page
        assert client.get(f"{place.base}/{theirs.id}").status_code == 200
    assert SECRET_EMAIL in _page(client.get(f"{place.base}/{theirs.id}"))
    db.session.expire_all()
    assert all(c.status is ConcernStatus.OPEN for c in _concerns())


def test_the_officers_list_puts_open_first_and_filters_by_status(
        client: Any, auth: Any, place: Any) -> None:
    for text in ("First raised.", "Second raised.", "Third raised."):
        _raise_signed_out(client, place, details=text, category="other")
    first, second, third = _concerns()
    auth.login(place.officer)
    _respond(client, place, first.id, "Answered.")
    page = _page(client.get(f"{place.base}/manage"))
    ids = [int(n) for n in re.findall(rf'href="{place.base}/(\d+)"', page)]
    assert ids == [second.id, third.id, first.id]
    page = _page(client.get(f"{place.base}/manage?status=responded"))
    ids = [int(n) for n in re.findall(rf'href="{place.base}/(\d+)"', page)]
    assert ids == [first.id]
    assert client.get(f"{place.base}/manage?status=nonsense").status_code == 200


def test_a_concern_is_closed_only_after_a_response(client: Any, auth: Any,
                                                   place: Any) -> None:
    _raise_signed_out(client, place)
    [concern] = _concerns()
    auth.login(place.officer)
    token = client.csrf_token(f"{place.base}/{concern.id}")
    assert client.post(f"{place.base}/{concern.id}/close",
                       data={"csrf_token": token}).status_code == 409
    _respond(client, place, concern.id, "Done.")
    assert client.post(f"{place.base}/{concern.id}/close",
                       data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert concern.status is ConcernStatus.CLOSED and concern.closed_at is not None
    assert concern.acknowledged_at == concern.responded_at  # responding acknowledged it


def test_a_wrong_private_link_is_not_found(client: Any, place: Any, make_partnership: Any,
                                           outbox: Any) -> None:
    _raise_signed_out(client, place)
    link = link_in(outbox(SECRET_EMAIL)[0])
    secret = link.rsplit("/", 1)[1]
    assert client.get(link).status_code == 200
    assert client.get(f"{place.base}/follow/{secret[:-2]}xx").status_code == 404
    assert client.get(f"{place.base}/follow/short").status_code == 404
    other = make_partnership("Elsewhere Together")
    assert client.get(f"/partnerships/{other.slug}/concerns/follow/{secret}").status_code == 404


def test_an_officer_responding_to_an_acknowledged_concern_twice_is_refused(
        client: Any, auth: Any, place: Any, outbox: Any) -> None:
    _raise_signed_out(client, place)
    [concern] = _concerns()
    auth.login(place.officer)
    page = f"{place.base}/{concern.id}/respond"
    token = client.csrf_token(page)
    first = client.post(page, data={"csrf_token": token, "reason": "First answer."})
    second = client.post(page, data={"csrf_token": token, "reason": "Second answer."})
    assert (first.status_code, second.status_code) == (303, 409)
    db.session.expire_all()
    assert concern.response == "First answer."
    assert len([m for m in outbox(SECRET_EMAIL) if m.subject.startswith("A response")]) == 1


# --- Figures for the engagement record -----------------------------------------------------


def _at(moment: datetime, action: Any) -> Any:
    with clock.at(moment):
        result = action()
    db.session.commit()
    return result


def test_figures_against_a_hand_built_fixture(app: Any, place: Any) -> None:
    with app.test_request_context():
        partnership = place.partnership
        jan = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)

        def make(category: ConcernCategory, moment: datetime, publish: bool = True) -> Concern:
            return _at(moment, lambda: services.raise_concern(
                None, partnership, services.ConcernDetails(
                    category=category, details="What happened.", consent_to_publish=publish,
                    email="someone@example.net"))[0])

        # Four concerns in 2025, one in 2024 (not counted), one in 2026 (not counted).
        a = make(ConcernCategory.NOT_ENOUGH_NOTICE, jan)
        b = make(ConcernCategory.NOT_ENOUGH_NOTICE, jan + timedelta(days=30))
        c = make(ConcernCategory.FUNDING_PROCESS, jan + timedelta(days=60), publish=False)
        make(ConcernCategory.OTHER, jan + timedelta(days=90))  # open
        make(ConcernCategory.OTHER, datetime(2024, 12, 31, 23, 30, tzinfo=UTC))
        make(ConcernCategory.OTHER, datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
        officer = place.officer
        # a: acknowledged after 1 day, responded after 3, closed. Published.
        _at(jan + timedelta(days=1), lambda: services.acknowledge(officer, a))
        _at(jan + timedelta(days=3), lambda: services.respond(officer, a, "Answer a."))
        _at(jan + timedelta(days=4), lambda: services.close(officer, a))
        # b: responded (and so acknowledged) after 5 days; withheld.
        _at(b.raised_at + timedelta(days=5), lambda: services.respond(officer, b, "Answer b."))
        _at(b.raised_at + timedelta(days=6),
            lambda: services.withhold(officer, b, "Names a person."))
        # c: acknowledged after 2 days (no consent to publish), no response yet.
        _at(c.raised_at + timedelta(days=2), lambda: services.acknowledge(officer, c))
        # d: open.
        figures = stats.figures(partnership.id, 2025)
    assert (figures.raised, figures.acknowledged, figures.responded, figures.closed) == \
        (4, 3, 2, 1)
    assert figures.median_days_to_acknowledge == 2.0  # 1, 2 and 5 days
    assert figures.median_days_to_respond == 4.0  # 3 and 5 days
    assert figures.by_category == {
        ConcernCategory.NOT_ACCESSIBLE: 0, ConcernCategory.NOT_ENOUGH_NOTICE: 2,
        ConcernCategory.NOT_LISTENED_TO: 0, ConcernCategory.FUNDING_PROCESS: 1,
        ConcernCategory.OTHER: 1}
    assert figures.published == 1  # a only: b withheld, c no consent, d no response
    # 31 December at 23:30 (GMT, so UK time too) counts for that year, and only it.
    assert stats.figures(partnership.id, 2024).raised == 1
    assert stats.figures(partnership.id, 2026).raised == 1
    empty = stats.figures(partnership.id, 2023)
    assert (empty.raised, empty.median_days_to_acknowledge) == (0, None)
    assert db.session.scalar(select(func.count(OutboxMessage.id))) > 0


def test_a_response_decided_on_a_stale_read_is_refused(app: Any, client: Any,
                                                       place: Any) -> None:
    """The race the conditional UPDATE closes, made deterministic: this officer's request
    read the concern as acknowledged; another officer's response was committed
    meanwhile. (Over HTTP on SQLite the two requests never overlap, since each POST
    takes the write lock first; on PostgreSQL they do: tests/test_concerns_concurrency.py.)"""
    from sqlalchemy import update

    from partnerships.errors import Conflict

    _raise_signed_out(client, place)
    with app.test_request_context():
        concern = _concerns()[0]
        services.acknowledge(place.officer, concern)
        db.session.commit()
        assert concern.status is ConcernStatus.ACKNOWLEDGED  # this request's read
        db.session.execute(update(Concern).where(Concern.id == concern.id).values(
            status=ConcernStatus.RESPONDED, response="The other officer's answer.",
            responded_at=datetime.now(UTC)).execution_options(synchronize_session=False))
        with pytest.raises(Conflict):
            services.respond(place.other_officer, concern, "A second answer.")
        assert concern.response == "The other officer's answer."
        with pytest.raises(Conflict):
            services.acknowledge(place.officer, concern)


def test_published_in_python_and_in_sql_agree(app: Any, client: Any, place: Any) -> None:
    """``concern_is_published`` and ``concerns_published`` pick the same concerns, over
    every combination of consent, response and withholding."""
    from partnerships import permissions

    with app.test_request_context():
        for consent in (True, False):
            for answered in (True, False):
                for withheld in (True, False):
                    if withheld and not consent:
                        continue  # cannot be withheld without consent
                    concern, _ = services.raise_concern(
                        None, place.partnership, services.ConcernDetails(
                            category=ConcernCategory.OTHER, details="Something.",
                            consent_to_publish=consent, email="r@example.net"))
                    if answered:
                        services.respond(place.officer, concern, "Answer.")
                    if withheld:
                        services.withhold(place.officer, concern, "Names someone.")
        db.session.commit()
        python = {c.id for c in _concerns() if permissions.concern_is_published(c)}
        sql = set(db.session.scalars(select(Concern.id).where(
            permissions.concerns_published())))
        assert python == sql and len(python) == 1
