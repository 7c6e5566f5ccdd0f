"""Security review, items 4 to 6, through HTTP.

4. Signing out ends the session on the server, so copied session and "remember me"
   cookies stop working; "Sign out of all other devices"; password change, reset and
   deletion end sessions.
5. Changing the email address needs the current password, keeps the old address
   until a link sent to the new one is followed, and tells the old address.
6. Registering tells no one which addresses have accounts, and known and unknown
   addresses cost the same password work at registration and sign-in.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from partnerships.accounts import passwords
from partnerships.accounts.models import User
from partnerships.extensions import db
from partnerships.modelbase import utcnow
from tests.conftest import PASSWORD, link_in

GOOD_PASSWORD = "maple lantern orbit 42"
FIREFOX_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) "
                      "Gecko/20100101 Firefox/128.0")
SAFARI_ON_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def _sign_in(browser, email="sam@example.org", password=PASSWORD, *, remember=False,
             user_agent="pytest"):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    response = browser.submit("/account/sign-in", data, headers={"User-Agent": user_agent})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response


def _cookie(browser, name):
    cookie = browser.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _replay(app, name, value):
    """A new browser holding only this one cookie: what GET /account/profile answers."""
    browser = app.test_client()
    browser.set_cookie(name, value)
    return browser.get("/account/profile")


def _signed_out(response):
    return response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def _device_sessions(user_id):
    from partnerships.accounts.models import UserSession

    return db.session.scalar(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id)
    )


def _text(response):
    return response.get_data(as_text=True)


def _normalised(page, *addresses):
    """A page with what always differs taken out: CSRF tokens, CSP nonces, addresses."""
    page = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', 'name="csrf_token"', page)
    page = re.sub(r"X-CSRFToken&#34;: &#34;[^&]+&#34;", "X-CSRFToken", page)
    page = re.sub(r'nonce="[^"]+"', 'nonce=""', page)
    page = re.sub(r"nonce-[A-Za-z0-9_\-+/=]+", "nonce-", page)
    for address in addresses:
        page = page.replace(address, "ADDRESS")
    return page


# --- 4. Sign-out ends the session on the server -------------------------------------


def test_signing_out_kills_copies_of_the_session_and_remember_me_cookies(app, client,
                                                                        make_user):
    make_user(email="sam@example.org")
    _sign_in(client, remember=True)
    stolen = {"session": _cookie(client, "session"),
              "remember_token": _cookie(client, "remember_token")}
    for name, value in stolen.items():  # each cookie alone is enough before signing out
        assert _replay(app, name, value).status_code == 200, name

    assert client.submit("/account/sign-out").status_code == 303

    assert _signed_out(client.get("/account/profile"))
    for name, value in stolen.items():
        assert _signed_out(_replay(app, name, value)), f"{name} still works after sign-out"


def test_sign_out_of_all_other_devices_ends_them_and_keeps_this_one(app, client, make_user):
    make_user(email="sam@example.org")
    laptop, phone, tablet = client, app.test_client(), app.test_client()
    _sign_in(laptop)
    _sign_in(phone, remember=True, user_agent=SAFARI_ON_IPHONE)
    _sign_in(tablet, user_agent=FIREFOX_ON_WINDOWS)
    phone_remember = _cookie(phone, "remember_token")

    page = _text(laptop.get("/account/profile"))
    assert "You are also signed in on 2 other devices" in page
    assert "Safari on iPhone" in page and "Firefox on Windows" in page
    assert "Sign out of all other devices" in page
    assert laptop.post("/account/sign-out-other-devices").status_code == 400  # no CSRF token

    response = laptop.submit("/account/sign-out-other-devices", page="/account/profile")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/profile"

    page = _text(laptop.get("/account/profile"))
    assert "You have signed out of 2 other devices" in page
    assert "You are not signed in on any other device" in page
    assert _signed_out(phone.get("/account/profile"))
    assert _signed_out(tablet.get("/account/profile"))
    assert _signed_out(_replay(app, "remember_token", phone_remember))


def test_signing_out_other_devices_needs_sign_in(client):
    response = client.post("/account/sign-out-other-devices")
    assert response.status_code in (302, 400)
    assert client.get("/account/profile").status_code == 302
    assert client.get("/account/sign-out-other-devices").status_code == 405


def test_changing_password_signs_out_other_devices_and_keeps_this_one(app, client, make_user):
    make_user(email="sam@example.org")
    phone = app.test_client()
    _sign_in(client, remember=True)
    _sign_in(phone, remember=True)
    phone_remember = _cookie(phone, "remember_token")
    my_remember = _cookie(client, "remember_token")
    assert "You are also signed in on 1 other device" in _text(client.get("/account/profile"))

    response = client.submit("/account/password", {"current_password": PASSWORD,
                                                   "password": GOOD_PASSWORD})
    assert response.status_code == 303

    assert "You are not signed in on any other device" in _text(client.get("/account/profile"))
    assert _replay(app, "remember_token", my_remember).status_code == 200  # this one stays
    assert _signed_out(phone.get("/account/profile"))
    assert _signed_out(_replay(app, "remember_token", phone_remember))


def test_password_reset_and_account_deletion_end_every_session(app, client, make_user,
                                                              outbox):
    user = make_user(email="sam@example.org")
    phone = app.test_client()
    _sign_in(phone, remember=True)
    phone_cookies = {"session": _cookie(phone, "session"),
                     "remember_token": _cookie(phone, "remember_token")}

    client.submit("/account/reset", {"email": "sam@example.org"})
    assert client.submit(link_in(outbox("sam@example.org")[0]),
                         {"password": GOOD_PASSWORD}).status_code == 303

    assert client.get("/account/profile").status_code == 200  # signed in afresh here
    assert _signed_out(phone.get("/account/profile"))
    for name, value in phone_cookies.items():
        assert _signed_out(_replay(app, name, value)), name
    assert _device_sessions(user.id) == 1

    my_session = _cookie(client, "session")
    assert client.submit("/account/delete", {"password": GOOD_PASSWORD}).status_code == 303
    assert _device_sessions(user.id) == 0
    assert _signed_out(_replay(app, "session", my_session))


def test_the_user_and_their_device_session_load_in_one_query(client, make_user,
                                                             count_queries):
    make_user(email="sam@example.org")
    _sign_in(client)
    with count_queries() as log:
        assert client.get("/account/sign-out").status_code == 200
    loads = [s for s in log.statements if "user_sessions" in s]
    assert len(loads) == 1, log.statements
    assert "FROM users" in loads[0]
    assert not [s for s in log.statements if "FROM users" in s and s not in loads]


def test_confirmation_link_signs_in_only_the_first_time_it_is_followed(app, client, outbox):
    client.submit("/account/register", {"name": "Ada Okafor", "email": "ada@example.org",
                                        "password": GOOD_PASSWORD})
    link = link_in(outbox("ada@example.org")[0])
    mail_app, someone_else = app.test_client(), app.test_client()

    response = mail_app.get(link)
    assert response.headers["Location"] == "/my/"
    assert mail_app.get("/account/profile").status_code == 200

    response = someone_else.get(link)
    assert response.status_code == 303
    assert "/account/sign-in" in response.headers["Location"]
    assert _signed_out(someone_else.get("/account/profile"))


# --- 5. Changing the email address -----------------------------------------------------


def test_changing_the_email_needs_the_current_password_but_the_name_does_not(
    client, make_user, outbox
):
    user = make_user(name="Sam Reid", email="sam@example.org")
    _sign_in(client)

    response = client.submit("/account/profile", {"name": "Samira Reid",
                                                  "email": "sam@example.org"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Samira Reid"

    for password, message in [("", "Enter your current password to change your email address"),
                              ("not my password", "Your current password is not right")]:
        response = client.submit("/account/profile", {
            "name": "Samira Reid", "email": "sam.new@example.org",
            "current_password": password,
        })
        assert response.status_code == 422
        page = _text(response)
        assert message in page
        assert 'href="#current_password"' in page  # a field error, in the summary
        assert 'id="current_password-error"' in page
        assert 'value="sam.new@example.org"' in page

    db.session.expire_all()
    assert db.session.get(User, user.id).email == "sam@example.org"
    assert outbox() == []


def test_new_email_is_used_only_once_the_link_sent_to_it_is_followed(app, client, make_user,
                                                                    outbox):
    user = make_user(name="Sam Reid", email="sam@example.org")
    _sign_in(client)

    response = client.submit("/account/profile", {"name": "Sam Reid",
                                                  "email": "Sam.New@Example.org",
                                                  "current_password": PASSWORD})
    assert response.status_code == 303
    page = _text(client.get("/account/profile"))
    assert "We have sent a link to sam.new@example.org" in page
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "sam@example.org"

    [warning] = outbox("sam@example.org")
    assert warning.subject == "Someone asked to change your email address"
    assert "sam.new@example.org" in warning.body
    [confirm] = outbox("sam.new@example.org")
    assert confirm.subject == "Confirm your new email address"
    link = link_in(confirm)
    assert link.startswith("/account/email/confirm/")

    # Followed from the new mailbox (maybe another device): the address changes.
    mail_app = app.test_client()
    response = mail_app.get(link)
    assert response.status_code == 303
    db.session.expire_all()
    changed = db.session.get(User, user.id)
    assert changed.email == "sam.new@example.org"
    assert changed.email_confirmed_at is not None
    assert [m.subject for m in outbox("sam@example.org")] == [
        "Someone asked to change your email address", "Your email address has changed"]
    assert _signed_out(mail_app.get("/account/profile"))  # the link does not sign in

    again = mail_app.get(link)
    assert again.status_code == 400
    assert "already been used" in _text(again)

    client.submit("/account/sign-out")
    _sign_in(client, "sam.new@example.org")


def test_email_change_link_dies_if_out_of_date_taken_meanwhile_or_password_changed(
    app, client, make_user, outbox
):
    user = make_user(email="sam@example.org")
    _sign_in(client)

    def ask(new_email):
        client.submit("/account/profile", {"name": user.name, "email": new_email,
                                           "current_password": PASSWORD})
        return link_in(outbox(new_email)[-1])

    link = ask("sam.new@example.org")
    make_user(email="sam.new@example.org")  # someone registers it before the link is used
    response = client.get(link)
    assert response.status_code == 400
    assert "Another account already uses this email address" in _text(response)

    link = ask("sam.other@example.org")
    app.config["EMAIL_CHANGE_TOKEN_MAX_AGE"] = -1
    response = client.get(link)
    assert response.status_code == 400
    assert "This link has expired" in _text(response)
    del app.config["EMAIL_CHANGE_TOKEN_MAX_AGE"]
    assert client.get(link + "x").status_code == 400

    client.submit("/account/password", {"current_password": PASSWORD,
                                        "password": GOOD_PASSWORD})
    response = client.get(link)
    assert response.status_code == 400
    assert "already been used or is out of date" in _text(response)

    db.session.expire_all()
    assert db.session.get(User, user.id).email == "sam@example.org"


def test_profile_reports_every_error_at_once_and_keeps_what_was_typed(client, make_user,
                                                                      outbox):
    user = make_user(name="Sam Reid", email="sam@example.org")
    _sign_in(client)

    response = client.submit("/account/profile", {"name": "", "email": "sam.new@example.org",
                                                  "current_password": "not my password"})
    assert response.status_code == 422
    page = _text(response)
    assert "Enter your full name" in page
    assert "Your current password is not right" in page
    assert 'value="sam.new@example.org"' in page

    response = client.submit("/account/profile", {"name": "S" * 121, "email": "sam-at-home",
                                                  "current_password": ""})
    assert response.status_code == 422
    page = _text(response)
    assert "Full name must be 120 characters or fewer" in page
    assert "Enter an email address in the correct format" in page
    assert "Enter your current password to change your email address" in page
    assert 'value="sam-at-home"' in page

    db.session.expire_all()
    assert (db.session.get(User, user.id).name, db.session.get(User, user.id).email) == (
        "Sam Reid", "sam@example.org")
    assert outbox() == []


def test_asking_for_an_address_that_has_an_account_answers_the_same_and_tells_its_owner(
    client, make_user, outbox
):
    make_user(name="Tara Taken", email="taken@example.org")
    user = make_user(name="Sam Reid", email="sam@example.org")
    _sign_in(client)

    def ask(new_email):
        response = client.submit("/account/profile", {"name": "Sam Reid", "email": new_email,
                                                      "current_password": PASSWORD})
        return (response.status_code, response.headers.get("Location"),
                _normalised(_text(client.get("/account/profile")), new_email))

    assert ask("taken@example.org") == ask("free@example.org")

    [notice] = outbox("taken@example.org")
    assert notice.subject == "Someone asked to use your email address for another account"
    assert "/account/email/confirm/" not in notice.body
    warnings = outbox("sam@example.org")
    assert len(warnings) == 2  # the account's own address is told the same both times
    assert (warnings[0].body.replace("taken@example.org", "ADDRESS")
            == warnings[1].body.replace("free@example.org", "ADDRESS"))
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "sam@example.org"


# --- 6. Registration does not tell who has an account ---------------------------------


def _attempt_registration(app, email, password=GOOD_PASSWORD):
    """Register with ``email`` in a new browser; what someone watching it could see."""
    browser = app.test_client()
    response = browser.submit("/account/register", {"name": "Someone Curious", "email": email,
                                                    "password": password})
    seen = [response.status_code, response.headers.get("Location"),
            _normalised(_text(response), email, email.lower())]
    if response.status_code == 303:
        follow = browser.get(response.headers["Location"])
        seen += [follow.status_code, _normalised(_text(follow), email, email.lower())]
    with browser.session_transaction() as session:
        seen.append(sorted(session.keys()))
    seen.append([name for name in ("session", "remember_token") if browser.get_cookie(name)])
    return seen


def test_registering_an_address_that_has_an_account_answers_exactly_as_a_new_one(
    app, make_user, outbox
):
    owner = make_user(name="Sam Reid", email="sam@example.org")
    password_hash = owner.password_hash

    assert _attempt_registration(app, "Sam@Example.org") == _attempt_registration(
        app, "new.person@example.org")

    assert db.session.scalar(select(func.count(User.id))) == 2  # only the new person's
    [message] = outbox("sam@example.org")
    assert message.subject == "Someone tried to create an account with your email address"
    assert "/account/sign-in" in message.body
    assert "/account/reset" in message.body
    [confirm] = outbox("new.person@example.org")
    assert confirm.subject == "Confirm your email address"
    db.session.expire_all()
    assert db.session.get(User, owner.id).password_hash == password_hash
    assert db.session.get(User, owner.id).name == "Sam Reid"


def test_a_weak_password_is_refused_alike_for_new_and_registered_addresses(app, make_user,
                                                                          outbox):
    make_user(email="sam@example.org")
    taken = _attempt_registration(app, "sam@example.org", password="password1234")
    new = _attempt_registration(app, "new.person@example.org", password="password1234")
    assert taken == new
    assert taken[0] == 422
    assert outbox() == []


@pytest.fixture
def password_work(monkeypatch):
    """Counts of password hashes made and checked (scrypt, the slow part)."""
    counts: Counter[str] = Counter()
    make, check = passwords.generate_password_hash, passwords.check_password_hash

    def counting_make(*args, **kwargs):
        counts["hashed"] += 1
        return make(*args, **kwargs)

    def counting_check(*args, **kwargs):
        counts["checked"] += 1
        return check(*args, **kwargs)

    monkeypatch.setattr(passwords, "generate_password_hash", counting_make)
    monkeypatch.setattr(passwords, "check_password_hash", counting_check)
    return counts


def test_known_and_unknown_addresses_cost_the_same_password_work_and_answer_alike(
    app, make_user, password_work
):
    make_user(email="sam@example.org")
    gone = make_user(email="gone@example.org")
    gone.deleted_at = utcnow()
    db.session.commit()

    def work(action):
        password_work.clear()
        action()
        return dict(password_work)

    def register(email):
        return lambda: _attempt_registration(app, email)

    def sign_in(email):
        return lambda: app.test_client().submit("/account/sign-in", {
            "email": email, "password": "not the password"})

    def reset(email):
        def ask():
            response = app.test_client().submit("/account/reset", {"email": email})
            answers.append((response.status_code, _normalised(_text(response), email)))
        return ask

    assert work(register("sam@example.org")) == work(register("nobody@example.org")) == {
        "hashed": 1}
    known = work(sign_in("sam@example.org"))
    assert known == {"checked": 1}
    assert work(sign_in("nobody@example.org")) == known
    assert work(sign_in("gone@example.org")) == known
    answers: list[tuple[int, str]] = []
    assert work(reset("sam@example.org")) == work(reset("nobody@example.org")) == {}
    assert answers[0] == answers[1]


def test_a_mistyped_unconfirmed_address_is_not_told_where_the_account_moved(client, make_user,
                                                                          outbox):
    user = make_user(email="sam@exmaple.org", confirmed=False)  # a stranger's, perhaps
    _sign_in(client, "sam@exmaple.org")
    client.submit("/account/profile", {"name": user.name, "email": "sam@example.org",
                                       "current_password": PASSWORD})
    [confirm] = outbox("sam@example.org")
    assert confirm.subject == "Confirm your new email address"
    assert client.get(link_in(confirm)).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "sam@example.org"
    assert db.session.get(User, user.id).email_confirmed_at is not None
    assert outbox("sam@exmaple.org") == []


# --- Forms that check the current password are rate limited --------------------------------


@pytest.mark.parametrize("url, data", [
    ("/account/password", {"current_password": "wrong guess", "password": "x"}),
    ("/account/delete", {"password": "wrong guess"}),
    ("/account/profile", {"name": "Sam", "email": "elsewhere@example.org",
                          "current_password": "wrong guess"}),
])
def test_password_guesses_through_account_forms_are_limited(app, client, auth, make_user, url,
                                                            data):
    """A stolen session must not become a way to guess the password."""
    assert app.config["PASSWORD_CHECK_RATE_LIMIT"] == "10 per hour"
    app.config["PASSWORD_CHECK_RATE_LIMIT"] = "3 per hour"  # fewer scrypt checks to wait for
    auth.login(make_user(email="sam@example.org"))
    statuses = [client.submit(url, data).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429], statuses
