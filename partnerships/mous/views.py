"""MoU pages: one MoU, drafting, the comment round, signing, amendments and
publication (the register and exports are in ``register_views``, versions, comparison
and the printable page in ``version_views``, reviews in ``review_views``).
Thin: load -> authorise (``permissions.mou_access``) -> validate -> service -> commit
-> flash -> redirect (303).

An MoU that the viewer may not see answers 404 (its existence is not revealed); a
signed-in viewer who may see it but not do the action gets 403.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import permissions, uploads
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..partnership.models import Partnership
from ..timeutil import today_uk
from . import mou_register, reviews, services
from .forms import (
    AmendForm,
    AttachmentForm,
    ClausesForm,
    CommentForm,
    DeclineForm,
    ForumsForm,
    MouForm,
    NominateForm,
    PublicationForm,
    SignForm,
    WithdrawForm,
)
from .models import Mou, MouStatus, MouVersion, VersionStatus
from .routes import bp
from .view_helpers import (
    BASE,
    ONE,
    Page,
    default_version,
    forum_endpoint,
    load_managed,
    load_partnership,
    load_viewable,
    see_other,
)


def _pending(mou: Mou) -> MouVersion:
    """The version being drafted or signed; editing anything else is a conflict."""
    if mou.draft_version is None:
        raise Conflict(
            "There is no draft of this MoU to change. The version in force can never be "
            "changed: start an amendment instead."
        )
    return mou.draft_version


# --- One MoU ------------------------------------------------------------------------------


def _render_show(partnership: Partnership, mou: Mou, access: permissions.MouAccess,
                 problem: str | None = None, status: int = 200) -> Page:
    shown = default_version(mou, access)
    if shown is None:
        abort(404)
    pending = mou.draft_version
    today = today_uk()
    current = mou.current_version
    return render_template(
        "mous/show.html", partnership=partnership, mou=mou, version=shown, access=access,
        pending=pending if pending is not None and access.can_view_version(pending) else None,
        versions=services.visible_versions(mou, access),
        reviews=reviews.history(mou) if mou.has_been_in_force else [],
        review_notes=access.manages or (current is not None and access.is_party_admin(current)),
        due_for_review=mou_register.is_due_for_review(mou, today),
        overdue=mou_register.is_overdue(mou, today),
        forum_endpoint=forum_endpoint(), problem=problem, statuses=VersionStatus,
        mou_statuses=MouStatus,
    ), status


@bp.get(ONE + "/")
def show(slug: str, mou_id: int) -> Page:
    partnership, mou, access = load_viewable(slug, mou_id)
    return _render_show(partnership, mou, access)


# --- Drafting ------------------------------------------------------------------------------


@bp.route(BASE + "/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> Page:
    partnership = load_partnership(slug)
    if not permissions.can_draft_mou(current_user, partnership):
        abort(403)
    form = MouForm()
    del form.changelog
    form.set_organisations(services.member_organisations(partnership))
    if form.validate_on_submit():
        try:
            mou = services.create_draft(current_user, partnership, form.details(),
                                        form.selected_parties())
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash(f"Your draft MoU is saved as {mou.reference}. Now add its clauses.",
                  "success")
            return see_other("mous.clauses", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/form.html", partnership=partnership, form=form, mou=None,
                           version=None), status


def _party_organisations(partnership: Partnership, version: MouVersion) -> list[Any]:
    """Member organisations plus any current party that has since left the partnership."""
    organisations = services.member_organisations(partnership)
    known = {org.id for org in organisations}
    extra = [p.organisation for p in version.parties if p.organisation_id not in known]
    return sorted([*organisations, *extra], key=lambda org: org.name.lower())


@bp.route(ONE + "/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    services.require_editable(draft)
    form = MouForm(obj=draft)
    if not form.is_submitted():
        form.principles.data = [p.value for p in mou.principles]
    if draft.number == 1:
        del form.changelog
    form.submit.label.text = "Save changes"
    form.set_organisations(_party_organisations(partnership, draft), draft)
    if form.validate_on_submit():
        try:
            services.update_draft(current_user, draft, form.details())
            services.set_parties(current_user, draft, form.selected_parties())
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash("Your changes to the draft are saved.", "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/form.html", partnership=partnership, form=form, mou=mou,
                           version=draft), status


@bp.route(ONE + "/clauses", methods=["GET", "POST"])
@login_required
def clauses(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    services.require_editable(draft)
    form = ClausesForm()
    form.prepare(draft)
    if form.validate_on_submit():
        try:
            services.set_clauses(current_user, draft, form.clause_details())
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            count = len(form.kept)
            flash(f"The clauses are saved. The draft has {count} "
                  f"clause{'' if count == 1 else 's'}.", "success")
            if form.add.data:
                return redirect(url_for("mous.clauses", slug=partnership.slug, mou_id=mou.id,
                                        _anchor="new-clause"), code=303)
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/clauses.html", partnership=partnership, mou=mou,
                           version=draft, form=form), status


@bp.route(ONE + "/attachments", methods=["GET", "POST"])
@login_required
def attachments(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    services.require_editable(draft)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            attachment = services.add_attachment(current_user, draft, form.file.data)
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash(f"{attachment.original_filename} is attached to the draft.", "success")
            return see_other("mous.attachments", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/attachments.html", partnership=partnership, mou=mou,
                           version=draft, form=form), status


@bp.post(ONE + "/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(slug: str, mou_id: int, attachment_id: int) -> Response:
    partnership, mou, _access = load_managed(slug, mou_id)
    attachment = services.get_attachment(mou, attachment_id)
    if attachment is None:
        abort(404)
    name = attachment.original_filename
    orphan = services.remove_attachment(current_user, attachment)
    db.session.commit()
    if orphan:
        uploads.delete(orphan)
    flash(f"{name} is no longer attached to the draft.", "success")
    return see_other("mous.attachments", slug=partnership.slug, mou_id=mou.id)


@bp.get(ONE + "/attachments/<int:attachment_id>")
def download(slug: str, mou_id: int, attachment_id: int) -> Response:
    _, mou, access = load_viewable(slug, mou_id)
    attachment = services.get_attachment(mou, attachment_id)
    if attachment is None or not access.can_view_version(attachment.version):
        abort(404)
    return uploads.send(attachment.stored_name, attachment.original_filename,
                        attachment.content_type)


@bp.route(ONE + "/forums", methods=["GET", "POST"])
@login_required
def forums(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    form = ForumsForm()
    available = services.partnership_forums(partnership)
    form.forums.choices = [(str(forum.id), forum.name) for forum in available]
    if not form.is_submitted():
        form.forums.data = [str(forum.id) for forum in mou.forums]
    if form.validate_on_submit():
        try:
            services.set_forums(current_user, mou, [int(v) for v in form.forums.data or []])
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash("The related forums are saved.", "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/forums.html", partnership=partnership, mou=mou, form=form,
                           available=available), status


@bp.route(ONE + "/publication", methods=["GET", "POST"])
@login_required
def publication(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    form = PublicationForm()
    if not form.is_submitted():
        form.publish.data = "yes" if mou.publish else "no"
        form.reason.data = mou.not_published_reason
    if form.validate_on_submit():
        try:
            services.set_publication(current_user, mou, form.publish.data == "yes",
                                     form.reason.data or "")
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash("The MoU will be on the public register once it is in force." if mou.publish
                  else "The MoU is members only. The reason is shown on its register entry.",
                  "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/publication.html", partnership=partnership, mou=mou,
                           form=form), status


# --- Moving the draft on -------------------------------------------------------------------


def _step(slug: str, mou_id: int, act: Any, done: str) -> Page:
    """Run one officer action from the MoU page (a button), then go back to it."""
    partnership, mou, access = load_managed(slug, mou_id)
    draft = _pending(mou)
    try:
        act(draft)
    except ValidationError as error:
        db.session.rollback()
        return _render_show(partnership, mou, access, problem=error.message, status=422)
    db.session.commit()
    flash(done, "success")
    return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)


@bp.post(ONE + "/send-for-comments")
@login_required
def send_for_comments(slug: str, mou_id: int) -> Page:
    return _step(slug, mou_id, lambda draft: services.send_for_comments(current_user, draft),
                 "The draft is out for comments. We have emailed the parties' admins.")


@bp.post(ONE + "/open-for-signature")
@login_required
def open_for_signature(slug: str, mou_id: int) -> Page:
    return _step(slug, mou_id, lambda draft: services.open_for_signature(current_user, draft),
                 "The MoU is open for signature and can no longer be changed. We have emailed "
                 "the parties' admins and nominated signatories.")


@bp.route(ONE + "/amend", methods=["GET", "POST"])
@login_required
def amend(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    if mou.status is MouStatus.ENDED:
        raise Conflict("This MoU has ended, so it can no longer be amended.")
    form = AmendForm()
    if form.validate_on_submit():
        try:
            new_version = services.start_amendment(current_user, mou, form.changelog.data or "")
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash(f"Version {new_version.number} is a new draft. The version in force stays "
                  "in force until every party signs the new one." if mou.has_been_in_force
                  else f"Version {new_version.number} is a new draft, copied from the version "
                  "that was out for signature.", "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/amend.html", partnership=partnership, mou=mou, form=form,
                           base=mou.draft_version or mou.current_version), status


@bp.route(ONE + "/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            services.withdraw(current_user, draft, form.reason.data or "")
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash(f"Version {draft.number} is withdrawn.", "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/withdraw.html", partnership=partnership, mou=mou,
                           version=draft, form=form), status


# --- Comments ----------------------------------------------------------------------------


def _comment_forms(version: MouVersion) -> dict[str, CommentForm]:
    """A blank form per clause ("clause-<n>") and one for the whole draft ("general")."""
    keys = ["general", *(f"clause-{clause.number}" for clause in version.clauses)]
    return {key: CommentForm(prefix=key, formdata=None, meta={"csrf": False}) for key in keys}


@bp.route(ONE + "/comments", methods=["GET", "POST"])
@login_required
def comments(slug: str, mou_id: int) -> Page:
    partnership, mou, access = load_viewable(slug, mou_id)
    draft = mou.draft_version
    if draft is None:
        abort(404)
    if not access.can_see_comments(draft):
        abort(403)
    forms = _comment_forms(draft)
    sent: CommentForm | None = None
    if request.method == "POST":
        key = request.form.get("target", "")
        if key not in forms:
            abort(400)
        # CSRFProtect checks every POST; the prefixed forms need no second token.
        sent = forms[key] = CommentForm(prefix=key, meta={"csrf": False})
        clause = None
        if key != "general":
            number = int(key.removeprefix("clause-"))
            clause = next(c for c in draft.clauses if c.number == number)
        if sent.validate_on_submit():
            try:
                services.comment(current_user, draft, clause, sent.body.data or "")
            except ValidationError as error:
                db.session.rollback()
                sent.add_error(error.field, error.message)
            else:
                db.session.commit()
                flash("Your comment is added." if clause is None
                      else f"Your comment on clause {clause.number} is added.", "success")
                return redirect(url_for("mous.comments", slug=partnership.slug, mou_id=mou.id,
                                        _anchor=key), code=303)
    status = 422 if sent is not None and sent.errors else 200
    return render_template(
        "mous/comments.html", partnership=partnership, mou=mou, version=draft,
        comments=services.comments_for(draft), forms=forms, form=sent,
        can_comment=access.can_comment(draft),
    ), status


# --- Signing --------------------------------------------------------------------------------


def _signing(slug: str, mou_id: int, organisation_id: int, number: str | None = None
             ) -> tuple[Partnership, Mou, permissions.MouAccess, MouVersion, Any]:
    """The version to sign (the one in progress, or the one the form was for) and the
    party's organisation, if this person is its authorised signatory."""
    partnership, mou, access = load_viewable(slug, mou_id)
    version_shown = mou.draft_version
    if number:
        if not number.isdigit():
            abort(400)
        version_shown = services.get_version(mou, int(number))
    if version_shown is None:
        abort(404)
    party = version_shown.party_for(organisation_id)
    if party is None:
        abort(404)
    if not access.is_authorised_signatory(version_shown, organisation_id):
        abort(403)
    return partnership, mou, access, version_shown, party.organisation


def _render_sign(partnership: Partnership, mou: Mou, version_shown: MouVersion,
                 organisation: Any, form: SignForm, decline_form: DeclineForm,
                 status: int = 200) -> Page:
    return render_template(
        "mous/sign.html", partnership=partnership, mou=mou, version=version_shown,
        organisation=organisation, form=form, decline_form=decline_form,
        statement=services.statement_for(organisation),
        done=version_shown.signature_for(organisation.id),
        active_form=decline_form if decline_form.errors else form,
    ), status


@bp.route(ONE + "/sign/<int:organisation_id>", methods=["GET", "POST"])
@login_required
def sign(slug: str, mou_id: int, organisation_id: int) -> Page:
    number = request.form.get("version") if request.method == "POST" else None
    partnership, mou, _access, version_shown, organisation = _signing(
        slug, mou_id, organisation_id, number)
    form = SignForm()
    form.set_statement(services.statement_for(organisation))
    decline_form = DeclineForm(formdata=None)
    decline_form.version.data = str(version_shown.number)
    if not form.is_submitted():
        form.version.data = str(version_shown.number)
        form.name.data = current_user.name
    if form.validate_on_submit():
        try:
            services.sign(current_user, version_shown, organisation, form.name.data or "",
                          form.role.data or "", form.statement.data or "")
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            if version_shown.status is VersionStatus.SIGNED:
                flash(f"You have signed for {organisation.name}. Every party has now signed, "
                      f"so version {version_shown.number} is in force.", "success")
            else:
                flash(f"You have signed version {version_shown.number} for "
                      f"{organisation.name}.", "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    elif form.is_submitted():
        # Say why a stale or repeated signature is refused, before any field errors.
        services.check_signable(permissions.mou_access(current_user, partnership),
                                   version_shown, organisation)
    status = 422 if form.errors else 200
    return _render_sign(partnership, mou, version_shown, organisation, form, decline_form,
                        status)


@bp.post(ONE + "/decline/<int:organisation_id>")
@login_required
def decline(slug: str, mou_id: int, organisation_id: int) -> Page:
    partnership, mou, access, version_shown, organisation = _signing(
        slug, mou_id, organisation_id, request.form.get("version"))
    decline_form = DeclineForm()
    form = SignForm(formdata=None)
    form.set_statement(services.statement_for(organisation))
    form.version.data = str(version_shown.number)
    form.name.data = current_user.name
    if decline_form.validate_on_submit():
        try:
            services.decline(current_user, version_shown, organisation,
                             decline_form.reason.data or "")
        except ValidationError as error:
            db.session.rollback()
            decline_form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash(f"You have declined to sign for {organisation.name}. We have told the "
                  "partnership officers your reason.", "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    else:
        services.check_signable(access, version_shown, organisation)
    return _render_sign(partnership, mou, version_shown, organisation, form, decline_form,
                        422)


@bp.route(ONE + "/nominate/<int:organisation_id>", methods=["GET", "POST"])
@login_required
def nominate(slug: str, mou_id: int, organisation_id: int) -> Page:
    partnership, mou, access = load_viewable(slug, mou_id)
    draft = mou.draft_version
    party = draft.party_for(organisation_id) if draft is not None else None
    if party is None:
        abort(404)
    if organisation_id not in access.admin_org_ids:
        abort(403)
    form = NominateForm()
    if form.validate_on_submit():
        try:
            user = services.nominate_signatory(current_user, party, form.email.data or "")
        except ValidationError as error:
            db.session.rollback()
            form.add_error(error.field, error.message)
        else:
            db.session.commit()
            flash(f"{user.name} can now sign for {party.organisation.name}. We have emailed "
                  "them.", "success")
            return see_other("mous.show", slug=partnership.slug, mou_id=mou.id)
    status = 422 if form.errors else 200
    return render_template("mous/nominate.html", partnership=partnership, mou=mou,
                           version=draft, party=party, form=form), status
