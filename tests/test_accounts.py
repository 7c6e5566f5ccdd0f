"""Accounts through HTTP: register, confirm, sign in and out, reset, profile, delete."""

from __future__ import annotations

from sqlalchemy import func, select

from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.mail import OutboxMessage
from partnerships.organisations.models import RequestStatus
from tests.conftest import PASSWORD, link_in

GOOD_PASSWORD = "maple lantern orbit 42"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _register(client, **overrides):
    data = {"name": "Ada Okafor", "email": "ada@eastside-food.example.org",
            "password": GOOD_PASSWORD}
    data.update(overrides)
    return client.submit("/account/register", data)


# --- Registration and confirmation ------------------------------------------------


def test_register_creates_account_and_emails_a_link_that_confirms_and_signs_in(client, outbox):
    response = _register(client)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/check-your-email")

    user = db.session.scalar(select(User).where(User.email == "ada@eastside-food.example.org"))
    assert user is not None and user.name == "Ada Okafor"
    assert user.password_hash.startswith("scrypt:")
    assert user.email_confirmed_at is None

    page = client.get("/account/check-your-email").get_data(as_text=True)
    assert "ada@eastside-food.example.org" in page
    # Not signed in yet: registering answers the same whether or not the address has
    # an account (see test_accounts_security.py), so it cannot sign anyone in.
    assert client.get("/account/profile").status_code == 302

    [message] = outbox("ada@eastside-food.example.org")
    assert message.subject == "Confirm your email address"
    response = client.get(link_in(message))
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/"
    assert client.get("/my/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is not None


def test_register_normalises_email_case_and_spaces(client):
    _register(client, email="  Ada@Eastside-Food.Example.ORG ")
    assert db.session.scalar(select(User.email)) == "ada@eastside-food.example.org"


def test_register_with_nothing_filled_in_shows_every_error_and_writes_nothing(client, outbox):
    response = client.submit("/account/register", {"name": "", "email": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter your full name" in page
    assert "Enter your email address" in page
    assert "Enter a password" in page
    assert "<title>Error: " in page
    assert _count(User) == 0
    assert outbox() == []


def test_register_bad_email_keeps_what_was_typed(client):
    response = _register(client, name="Ada Okafor", email="ada-at-example")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter an email address in the correct format" in page
    assert 'value="Ada Okafor"' in page
    assert 'value="ada-at-example"' in page
    assert _count(User) == 0


def test_register_refuses_too_long_name(client):
    response = _register(client, name="A" * 121)
    assert response.status_code == 422
    assert "Full name must be 120 characters or fewer" in response.get_data(as_text=True)
    assert _count(User) == 0


def test_register_refuses_short_and_common_passwords(client, outbox):
    response = _register(client, password="short words")
    assert response.status_code == 422
    assert "Password must be 12 characters or more" in response.get_data(as_text=True)

    response = _register(client, password="password1234")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "harder to guess" in page
    assert 'value="ada@eastside-food.example.org"' in page
    assert _count(User) == 0
    assert outbox() == []


def test_register_refuses_password_made_of_the_persons_email(client):
    response = _register(client, email="northbridgefoodbank@example.org",
                         password="northbridgefoodbank")
    assert response.status_code == 422
    assert _count(User) == 0


def test_register_makes_no_second_account_for_an_email_already_registered_in_any_case(
    client, make_user, outbox
):
    make_user(email="ada@eastside-food.example.org")
    response = _register(client, email="ADA@eastside-food.example.org")
    # The same answer as for a new address; the owner is told instead.
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/check-your-email")
    assert _count(User) == 1
    assert [m.subject for m in outbox()] == [
        "Someone tried to create an account with your email address"]


def test_register_without_csrf_token_is_refused(client):
    response = client.post("/account/register", data={
        "name": "Ada", "email": "ada@example.org", "password": GOOD_PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert _count(User) == 0


def test_forged_confirmation_link_is_refused(client, make_user):
    user = make_user(confirmed=False)
    response = client.get("/account/confirm/not-a-real-token")
    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is None


def test_expired_confirmation_link_is_refused(app, client, outbox):
    _register(client)
    app.config["CONFIRM_TOKEN_MAX_AGE"] = -1
    response = client.get(link_in(outbox()[0]))
    assert response.status_code == 400
    assert "This link has expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(User.email_confirmed_at)) is None


def test_confirmation_link_cannot_be_used_to_reset_a_password(client, outbox):
    _register(client)
    token = link_in(outbox()[0]).rsplit("/", 1)[1]
    response = client.get(f"/account/reset/{token}")
    assert response.status_code == 400


def test_resend_confirmation_sends_a_new_link(client, auth, make_user, outbox):
    user = make_user(confirmed=False)
    auth.login(user)
    response = client.submit("/account/confirm/resend", page="/account/check-your-email")
    assert response.status_code == 303
    assert len(outbox(user.email)) == 1


def test_unconfirmed_user_sees_a_reminder_banner(client, auth, make_user):
    auth.login(make_user(confirmed=False))
    page = client.get("/").get_data(as_text=True)
    assert "Confirm your email address" in page


# --- Sign in and out -------------------------------------------------------------------


def test_sign_in_with_correct_details_goes_to_your_local_partnerships(client, make_user):
    make_user(name="Sam Reid", email="sam@example.org")
    response = client.submit("/account/sign-in", {"email": "Sam@Example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/"
    assert "Sam Reid" in client.get("/account/profile").get_data(as_text=True)


def test_sign_in_with_wrong_password_or_unknown_email_gives_the_same_error(client, make_user):
    make_user(email="sam@example.org")
    wrong = client.submit("/account/sign-in", {"email": "sam@example.org", "password": "nope"})
    unknown = client.submit("/account/sign-in", {"email": "who@example.org", "password": "nope"})
    for response in (wrong, unknown):
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "Enter a correct email address and password" in page
    assert client.get("/account/profile").status_code == 302


def test_sign_in_is_rate_limited(client, make_user):
    make_user(email="sam@example.org")
    token = client.csrf_token("/account/sign-in")
    statuses = [
        client.post("/account/sign-in", data={
            "csrf_token": token, "email": "sam@example.org", "password": f"guess {n}"
        }).status_code
        for n in range(11)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    response = client.post("/account/sign-in", data={
        "csrf_token": token, "email": "sam@example.org", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_sign_in_follows_next_only_within_the_site(client, make_user):
    make_user(email="sam@example.org")
    data = {"email": "sam@example.org", "password": PASSWORD}
    ok = client.submit("/account/sign-in?next=/partnerships/", data)
    assert ok.headers["Location"] == "/partnerships/"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        client.submit("/account/sign-out", page="/account/sign-out")
        response = client.submit(f"/account/sign-in?next={evil}", data, page="/account/sign-in")
        assert response.headers["Location"] == "/my/", evil


def test_protected_page_sends_anonymous_users_to_sign_in_and_back(client):
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert "/account/sign-in?next=" in response.headers["Location"]


def test_sign_out_needs_a_post_with_csrf_and_ends_the_session(client, auth, make_user):
    auth.login(make_user())
    assert client.get("/account/sign-out").status_code == 200
    assert client.post("/account/sign-out").status_code == 400  # no CSRF token
    assert client.get("/account/profile").status_code == 200
    response = client.submit("/account/sign-out")
    assert response.status_code == 303
    assert client.get("/account/profile").status_code == 302


def test_deleted_user_cannot_sign_in(client, make_user):
    from partnerships.modelbase import utcnow

    user = make_user(email="gone@example.org")
    user.deleted_at = utcnow()
    db.session.commit()
    response = client.submit("/account/sign-in",
                             {"email": "gone@example.org", "password": PASSWORD})
    assert response.status_code == 422


# --- Password reset ------------------------------------------------------------------


def test_reset_password_journey_signs_in_and_link_works_only_once(client, make_user, outbox):
    user = make_user(email="sam@example.org")
    response = client.submit("/account/reset", {"email": "sam@example.org"})
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    [message] = outbox("sam@example.org")
    link = link_in(message)

    response = client.submit(link, {"password": GOOD_PASSWORD})
    assert response.status_code == 303
    assert client.get("/account/profile").status_code == 200

    again = client.get(link)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)

    client.submit("/account/sign-out")
    ok = client.submit("/account/sign-in", {"email": "sam@example.org", "password": GOOD_PASSWORD})
    assert ok.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is not None


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(client, outbox):
    response = client.submit("/account/reset", {"email": "nobody@example.org"})
    assert response.status_code == 200
    assert "If <strong>nobody@example.org</strong> has an account" in response.get_data(
        as_text=True)
    assert outbox() == []


def test_reset_with_weak_password_keeps_the_old_one(client, make_user, outbox):
    user = make_user(email="sam@example.org")
    old_hash = user.password_hash
    client.submit("/account/reset", {"email": "sam@example.org"})
    link = link_in(outbox()[0])
    response = client.submit(link, {"password": "aaaaaaaaaaaa"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash


def test_expired_or_forged_reset_links_are_refused(app, client, make_user, outbox):
    make_user(email="sam@example.org")
    client.submit("/account/reset", {"email": "sam@example.org"})
    link = link_in(outbox()[0])
    assert client.get(link + "x").status_code == 400
    app.config["RESET_TOKEN_MAX_AGE"] = -1
    response = client.get(link)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_password_reset_signs_out_other_sessions(app, client, auth, make_user, outbox):
    user = make_user(email="sam@example.org")
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = user.get_id()
    assert other_device.get("/account/profile").status_code == 200
    client.submit("/account/reset", {"email": "sam@example.org"})
    client.submit(link_in(outbox()[0]), {"password": GOOD_PASSWORD})
    assert other_device.get("/account/profile").status_code == 302


# --- Profile and password ------------------------------------------------------------


def test_profile_change_name(client, auth, make_user):
    user = make_user(name="Sam Reid")
    auth.login(user)
    response = client.submit("/account/profile", {"name": "Samira Reid", "email": user.email})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Samira Reid"


def test_profile_change_email_needs_confirming_again(client, auth, make_user, outbox):
    user = make_user(email="sam@example.org")
    auth.login(user)
    client.submit("/account/profile", {"name": user.name, "email": "sam.reid@example.org",
                                       "current_password": PASSWORD})
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "sam@example.org"  # until the link
    [message] = outbox("sam.reid@example.org")
    client.get(link_in(message))
    db.session.expire_all()
    changed = db.session.get(User, user.id)
    assert changed.email == "sam.reid@example.org"
    assert changed.email_confirmed_at is not None


def test_profile_refuses_another_accounts_email_and_empty_name(client, auth, make_user, outbox):
    make_user(email="taken@example.org")
    user = make_user(name="Sam Reid", email="sam@example.org")
    auth.login(user)
    # Answered as for a free address (so it tells no one which addresses have
    # accounts), but no link is sent: the owner of taken@ is told instead.
    response = client.submit("/account/profile", {"name": "Sam Reid", "email": "taken@example.org",
                                                  "current_password": PASSWORD})
    assert response.status_code == 303
    assert [m.subject for m in outbox("taken@example.org")] == [
        "Someone asked to use your email address for another account"]
    response = client.submit("/account/profile", {"name": "", "email": "sam@example.org"})
    assert response.status_code == 422
    assert "Enter your full name" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Sam Reid"
    assert db.session.get(User, user.id).email == "sam@example.org"


def test_change_password_needs_the_current_one_and_signs_out_elsewhere(app, client, auth,
                                                                       make_user):
    user = make_user()
    auth.login(user)
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = user.get_id()

    wrong = client.submit("/account/password", {"current_password": "wrong one here",
                                                "password": GOOD_PASSWORD})
    assert wrong.status_code == 422
    assert "Your current password is not right" in wrong.get_data(as_text=True)

    ok = client.submit("/account/password", {"current_password": PASSWORD,
                                             "password": GOOD_PASSWORD})
    assert ok.status_code == 303
    assert client.get("/account/profile").status_code == 200
    assert other_device.get("/account/profile").status_code == 302


# --- Deleting an account -------------------------------------------------------------


def test_delete_account_erases_personal_data_and_keeps_the_row(client, auth, make_user,
                                                               make_organisation):
    user = make_user(name="Sam Reid", email="sam@example.org")
    colleague = make_user()
    org = make_organisation(admin=colleague, members=[user])
    auth.login(user)
    wrong = client.submit("/account/delete", {"password": "not my password"})
    assert wrong.status_code == 422

    response = client.submit("/account/delete", {"password": PASSWORD})
    assert response.status_code == 303
    db.session.expire_all()
    gone = db.session.get(User, user.id)
    assert gone.display_name == "Former member"
    assert "sam" not in gone.email and "Sam" not in gone.name
    assert gone.password_hash is None
    assert all(m.user_id != user.id for m in org.memberships)
    assert client.get("/account/profile").status_code == 302
    signin = client.submit("/account/sign-in", {"email": "sam@example.org", "password": PASSWORD})
    assert signin.status_code == 422


def test_sole_admin_of_an_organisation_with_members_cannot_delete_yet(client, auth, make_user,
                                                                     make_organisation):
    admin = make_user()
    make_organisation("Northbridge CVS", admin=admin, members=[make_user()])
    auth.login(admin)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "You are the only admin of Northbridge CVS" in page
    # The page shows no form; a hand-made POST is refused by the service too.
    response = client.submit("/account/delete", {"password": PASSWORD}, page="/account/profile")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, admin.id).deleted_at is None


def test_delete_requires_sign_in(client):
    response = client.get("/account/delete")
    assert response.status_code == 302
    assert "/account/sign-in" in response.headers["Location"]


def test_failed_registration_leaves_no_outbox_message(client, make_user):
    make_user(email="ada@eastside-food.example.org")
    _register(client, password="password1234")
    _register(client, email="someone.new@example.org", password="password1234")
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_request_status_enum_values_are_stable():
    # Stored in the database: renaming a value needs a data migration.
    assert [s.value for s in RequestStatus] == ["pending", "active", "declined", "left"]


def test_register_returns_to_a_safe_next_page_with_the_email_prefilled(client, outbox):
    page = client.get("/account/register?next=/partnerships/&email=ada@example.org")
    assert 'value="ada@example.org"' in page.get_data(as_text=True)
    response = client.submit("/account/register?next=/partnerships/",
                             {"name": "Ada Okafor", "email": "ada@example.org",
                              "password": GOOD_PASSWORD})
    assert response.status_code == 303
    # The confirmation link signs the person in and returns them to the next page.
    [message] = outbox("ada@example.org")
    response = client.get(link_in(message))
    assert response.headers["Location"] == "/partnerships/"
    assert client.get("/account/profile").status_code == 200


def test_register_ignores_a_next_page_on_another_site(client, outbox):
    response = client.submit("/account/register?next=https://evil.example/",
                             {"name": "Ada Okafor", "email": "ada@example.org",
                              "password": GOOD_PASSWORD}, page="/account/register")
    assert response.headers["Location"].endswith("/account/check-your-email")
    assert "evil" not in outbox("ada@example.org")[0].body
