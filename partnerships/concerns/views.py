"""Concern pages: raising one, the confirmation, the public list, the officers' list
and steps, and the raiser's own view (signed in, or through the private link). Thin:
load -> authorise -> validate -> service -> commit -> flash -> redirect (303)."""

from __future__ import annotations

from typing import cast

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, once, permissions
from ..accounts.models import User
from ..errors import Conflict
from ..extensions import limiter
from ..formflow import Page, allowed, found, see_other
from ..forms import ButtonForm
from ..partnership import services as partnership_services
from ..partnership.models import Partnership
from . import services
from .forms import (
    ConcernForm,
    RespondForm,
    SignedOutConcernForm,
    StatusFilterForm,
    WithholdForm,
)
from .models import Concern, ConcernStatus
from .routes import bp

BASE = "/partnerships/<slug>/concerns"
SENT_KEY = "concern_sent"


def _me() -> User | None:
    if not current_user.is_authenticated:
        return None
    return cast(User, current_user._get_current_object())


def _partnership(slug: str) -> Partnership:
    return found(partnership_services.get_by_slug(slug))


def _managed(slug: str) -> Partnership:
    return allowed(_partnership(slug), permissions.can_manage_concerns)


def _concern(partnership: Partnership, concern_id: int) -> Concern:
    return found(services.get(partnership, concern_id))


def _raise_limit() -> str:
    return str(current_app.config["CONCERN_RATE_LIMIT"])


def _signed_in() -> bool:
    return bool(current_user.is_authenticated)


@bp.route(f"{BASE}/new", methods=["GET", "POST"])
@limiter.limit(_raise_limit, methods=["POST"], exempt_when=_signed_in)
def new(slug: str) -> Page:
    """Anyone raises a concern. Signed out, the form also asks for an address to reply
    to; it is rate-limited per address and carries a honeypot field against bots."""
    partnership = _partnership(slug)
    me = _me()
    form: ConcernForm = ConcernForm() if me else SignedOutConcernForm()
    form.set_about(services.about_choices(me, partnership))
    if isinstance(form, SignedOutConcernForm) and form.is_submitted() and form.is_bot:
        return see_other("concerns.sent", slug=partnership.slug)  # as if sent: nothing kept

    def raise_it() -> Concern:
        concern, _secret = services.raise_concern(me, partnership, form.concern_details())
        return concern

    if saved := once.save(form, raise_it,
                          lambda concern: url_for("concerns.sent", slug=partnership.slug)):
        if saved.again:
            flash(once.ALREADY_SENT, "info")
        elif saved.value is not None:
            session[SENT_KEY] = {"partnership": partnership.id, "concern": saved.value.id}
        return redirect(saved.url, code=303)
    return formflow.render("concerns/new.html", form, partnership=partnership,
                           signed_out=me is None)


@bp.get(f"{BASE}/sent")
def sent(slug: str) -> str:
    partnership = _partnership(slug)
    note = session.get(SENT_KEY) or {}
    concern = None
    if isinstance(note, dict) and note.get("partnership") == partnership.id:
        concern = services.get(partnership, int(note.get("concern") or 0))
    # Raised in this browser's session; one raised signed in only for that account.
    if concern is not None and concern.raised_by_id is not None and \
            not permissions.is_concern_raiser(current_user, concern):
        concern = None
    return render_template("concerns/sent.html", partnership=partnership, concern=concern,
                           email=services.raiser_email(concern) if concern else None,
                           signed_in=_me() is not None)


@bp.get(f"{BASE}/")
def index(slug: str) -> str:
    """The public list: concerns whose raisers agreed, once responded to."""
    partnership = _partnership(slug)
    return render_template("concerns/index.html", partnership=partnership,
                           concerns=services.published(partnership),
                           can_manage=permissions.can_manage_concerns(current_user, partnership))


@bp.get(f"{BASE}/manage")
@login_required
def manage(slug: str) -> str:
    """The officers' list: open first, oldest first; filter by status."""
    partnership = _managed(slug)
    form = StatusFilterForm(formdata=request.args)
    value = request.args.get("status", "")
    status = ConcernStatus(value) if value in {s.value for s in ConcernStatus} else None
    form.status.data = status.value if status else ""
    return render_template("concerns/manage.html", partnership=partnership, form=form,
                           concerns=services.for_officers(partnership, status),
                           counts=services.status_counts(partnership), status=status,
                           statuses=ConcernStatus)


def _show(partnership: Partnership, concern: Concern, *, follow: bool) -> str:
    manager = permissions.can_manage_concerns(current_user, partnership)
    return render_template(
        "concerns/show.html", partnership=partnership, concern=concern, follow=follow,
        can_manage=manager and not follow, button=ButtonForm(),
        about=services.about_label(current_user, concern),
        email=services.raiser_email(concern) if manager and not follow else None)


@bp.get(f"{BASE}/<int:concern_id>")
def show(slug: str, concern_id: int) -> str:
    """The whole concern: for its officers, and for the signed-in person who raised it."""
    partnership = _partnership(slug)
    concern = allowed(_concern(partnership, concern_id), permissions.can_view_concern,
                      hide=True)
    return _show(partnership, concern, follow=False)


@bp.get(f"{BASE}/follow/<token>")
def follow(slug: str, token: str) -> Response | str:
    """A signed-out raiser's private link to their concern; a wrong link is not found."""
    partnership = _partnership(slug)
    concern = found(services.by_token(partnership, token))
    response = make_response(_show(partnership, concern, follow=True))
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _to_concern(concern: Concern) -> Response:
    return see_other("concerns.show", slug=concern.partnership.slug, concern_id=concern.id)


def _acted(slug: str, concern_id: int) -> tuple[User, Concern]:
    partnership = _managed(slug)
    me = _me()
    assert me is not None  # login_required
    return me, _concern(partnership, concern_id)


@bp.post(f"{BASE}/<int:concern_id>/acknowledge")
@login_required
def acknowledge(slug: str, concern_id: int) -> Response:
    me, concern = _acted(slug, concern_id)
    return formflow.press(lambda: services.acknowledge(me, concern),
                          "Concern acknowledged. The person who raised it has been emailed.",
                          _to_concern(concern))


@bp.post(f"{BASE}/<int:concern_id>/close")
@login_required
def close(slug: str, concern_id: int) -> Response:
    me, concern = _acted(slug, concern_id)
    return formflow.press(lambda: services.close(me, concern), "Concern closed.",
                          _to_concern(concern))


@bp.route(f"{BASE}/<int:concern_id>/respond", methods=["GET", "POST"])
@login_required
def respond(slug: str, concern_id: int) -> Page:
    me, concern = _acted(slug, concern_id)
    if concern.status not in (ConcernStatus.OPEN, ConcernStatus.ACKNOWLEDGED):
        if request.method == "POST":
            raise Conflict("This concern has already been responded to.")
        flash("This concern has already been responded to.")
        return _to_concern(concern)
    form = RespondForm()
    if formflow.save(form, lambda: services.respond(me, concern, form.reason.data or "")):
        flash("Response sent. The person who raised the concern has been emailed it.",
              "success")
        return _to_concern(concern)
    return formflow.render("concerns/respond.html", form, partnership=concern.partnership,
                           concern=concern)


@bp.route(f"{BASE}/<int:concern_id>/withhold", methods=["GET", "POST"])
@login_required
def withhold(slug: str, concern_id: int) -> Page:
    me, concern = _acted(slug, concern_id)
    if not concern.consent_to_publish or concern.withheld_at is not None:
        if request.method == "POST":
            abort(409)
        flash("This concern will not be shown publicly.")
        return _to_concern(concern)
    form = WithholdForm()
    if formflow.save(form, lambda: services.withhold(me, concern, form.reason.data or "")):
        flash("This concern will not be shown publicly.", "success")
        return _to_concern(concern)
    return formflow.render("concerns/withhold.html", form, partnership=concern.partnership,
                           concern=concern)
