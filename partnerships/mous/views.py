"""MoU pages: one MoU, drafting, the comment round, signing, amendments and
publication (the register and exports are in ``register_views``, versions, comparison
and the printable page in ``version_views``, reviews in ``review_views``).
Thin: load -> authorise (``permissions.mou_access``) -> validate -> service -> commit
-> flash -> redirect (303).

An MoU that the viewer may not see answers 404 (its existence is not revealed); a
signed-in viewer who may see it but not do the action gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from .. import formflow, once, permissions, uploads
from ..bounds import whole_number
from ..errors import Conflict
from ..formflow import Page, allowed, found, see_other
from ..forms import ReasonForm
from ..partnership.models import Partnership
from ..timeutil import format_day, today_uk
from . import mou_register, reviews, services, standing
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
    default_version,
    forum_endpoint,
    load_managed,
    load_partnership,
    load_viewable,
    to_mou,
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
    shown = found(default_version(mou, access))
    pending = mou.draft_version
    today = today_uk()
    current = mou.current_version
    if pending is not None and not access.can_view_version(pending):
        pending = None
    return render_template(
        "mous/show.html", partnership=partnership, mou=mou, version=shown, access=access,
        pending=pending, party_admins=_party_admins(access, pending),
        can_return=(pending is not None and access.manages
                    and services.can_return_to_draft(pending)),
        versions=services.visible_versions(mou, access),
        reviews=reviews.history(mou) if mou.has_been_in_force else [],
        review_notes=access.manages or (current is not None and access.is_party_admin(current)),
        due_for_review=mou_register.is_due_for_review(mou, today),
        overdue=mou_register.is_overdue(mou, today),
        forum_endpoint=forum_endpoint(), problem=problem, statuses=VersionStatus,
        mou_statuses=MouStatus,
    ), status


def _party_admins(access: permissions.MouAccess,
                  pending: MouVersion | None) -> dict[int, list[Any]]:
    """Who may sign for each party of the version in progress besides its nominee (its
    admins), for the officers and the parties' admins only: the page names them."""
    if pending is None or not access.can_see_comments(pending):
        return {}
    return services.party_admins(pending)


@bp.get(ONE + "/")
def show(slug: str, mou_id: int) -> Page:
    partnership, mou, access = load_viewable(slug, mou_id)
    return _render_show(partnership, mou, access)


# --- Drafting ------------------------------------------------------------------------------


@bp.route(BASE + "/new", methods=["GET", "POST"])
@login_required
def new(slug: str) -> Page:
    partnership = allowed(load_partnership(slug), permissions.can_draft_mou)
    form = MouForm()
    del form.changelog
    form.set_organisations(services.member_organisations(partnership))
    if saved := once.save(form, lambda: services.create_draft(
            current_user, partnership, form.details(), form.selected_parties()),
            lambda mou: url_for("mous.clauses", slug=partnership.slug, mou_id=mou.id)):
        flash(once.ALREADY_SENT if saved.value is None else
              f"Your draft MoU is saved as {saved.value.reference}. Now add its clauses.",
              "info" if saved.again else "success")
        return redirect(saved.url, code=303)
    return formflow.render("mous/form.html", form, partnership=partnership, mou=None,
                           version=None)


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
    if formflow.save(form, lambda: _update_draft(draft, form)):
        flash("Your changes to the draft are saved.", "success")
        return to_mou(partnership, mou)
    return formflow.render("mous/form.html", form, partnership=partnership, mou=mou,
                           version=draft)


def _update_draft(draft: MouVersion, form: MouForm) -> None:
    services.update_draft(current_user, draft, form.details())
    services.set_parties(current_user, draft, form.selected_parties())


@bp.route(ONE + "/clauses", methods=["GET", "POST"])
@login_required
def clauses(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    services.require_editable(draft)
    form = ClausesForm()
    form.prepare(draft)
    if formflow.save(form, lambda: services.set_clauses(current_user, draft,
                                                         form.clause_details())):
        count = len(form.kept)
        flash(f"The clauses are saved. The draft has {count} "
              f"clause{'' if count == 1 else 's'}.", "success")
        if form.add.data:
            return see_other("mous.clauses", slug=partnership.slug, mou_id=mou.id,
                             _anchor="new-clause")
        return to_mou(partnership, mou)
    return formflow.render("mous/clauses.html", form, partnership=partnership, mou=mou,
                           version=draft)


@bp.route(ONE + "/attachments", methods=["GET", "POST"])
@login_required
def attachments(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    services.require_editable(draft)
    form = AttachmentForm()
    if done := formflow.save(form, lambda: services.add_attachment(current_user, draft,
                                                                  form.file.data)):
        flash(f"{done.value.original_filename} is attached to the draft.", "success")
        return see_other("mous.attachments", slug=partnership.slug, mou_id=mou.id)
    return formflow.render("mous/attachments.html", form, partnership=partnership, mou=mou,
                           version=draft)


@bp.post(ONE + "/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(slug: str, mou_id: int, attachment_id: int) -> Response:
    partnership, mou, _access = load_managed(slug, mou_id)
    attachment = found(services.get_attachment(mou, attachment_id))
    name = attachment.original_filename
    done = formflow.apply(lambda: services.remove_attachment(current_user, attachment))
    if isinstance(done, formflow.Done):
        if orphan := done.value:
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
    if formflow.save(form, lambda: services.set_forums(
            current_user, mou, [int(v) for v in form.forums.data or []])):
        flash("The related forums are saved.", "success")
        return to_mou(partnership, mou)
    return formflow.render("mous/forums.html", form, partnership=partnership, mou=mou,
                           available=available)


@bp.route(ONE + "/publication", methods=["GET", "POST"])
@login_required
def publication(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    form = PublicationForm()
    if not form.is_submitted():
        form.publish.data = "yes" if mou.publish else "no"
        form.reason.data = mou.not_published_reason
    if formflow.save(form, lambda: services.set_publication(
            current_user, mou, form.publish.data == "yes", form.reason.data or "")):
        flash("The MoU will be on the public register once it is in force." if mou.publish
              else "The MoU is members only. The reason is shown on its register entry.",
              "success")
        return to_mou(partnership, mou)
    return formflow.render("mous/publication.html", form, partnership=partnership, mou=mou)


# --- Moving the draft on -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One confirmation page's words (``mous/confirm_step.html``)."""

    heading: str
    next: list[str]
    clauses: str
    button: str
    action: str
    with_nominees: bool = False
    button_classes: str = ""


def _confirmed_step(slug: str, mou_id: int, words: Callable[[MouVersion], Step],
                    check: Callable[[MouVersion], None], act: Callable[[MouVersion], Any],
                    done: str) -> Page:
    """A step that moves the version in progress on (or back): GET shows what happens
    next and who is emailed; POST does it, then back to the MoU page. A step the version
    is past is the service's 409 either way; a refusal the officer can fix (no clauses
    yet) is shown on this page (422)."""
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    step = words(draft)
    problem = None
    if request.method == "POST":
        formflow.button_pressed()
        outcome = formflow.apply(lambda: act(draft))
        if isinstance(outcome, formflow.Done):
            flash(done, "success")
            return to_mou(partnership, mou)
        problem = outcome.message
    else:
        check(draft)
    return render_template(
        "mous/confirm_step.html", partnership=partnership, mou=mou, version=draft,
        step=step, problem=problem,
        recipients=services.recipients(draft, with_nominees=step.with_nominees),
    ), 422 if problem else 200


def _comments_words(draft: MouVersion) -> Step:
    mou = draft.mou
    return Step(
        heading=f"Send version {draft.number} to the parties for comments",
        next=[
            "We email the admins of each party's organisation with a link to the draft.",
            "They can comment on each clause, and on the whole draft, until you open it "
            "for signature.",
            "Only the partnership's officers and the parties' admins can read the draft "
            "and the comments.",
            "Until anyone signs, you can take it back to draft.",
        ],
        clauses="You can still change the clauses and the details while it is out for "
                "comments. They are fixed once you open it for signature.",
        button="Send for comments",
        action=url_for("mous.send_for_comments", slug=mou.partnership.slug, mou_id=mou.id),
    )


def _signing_words(draft: MouVersion) -> Step:
    mou = draft.mou
    in_force = mou.current_version
    return Step(
        heading=f"Open version {draft.number} for signature",
        next=[
            "We email the admins of each party's organisation and anyone nominated to sign "
            "for it, with a link to sign.",
            "Each party signs once, by an admin or the person it nominated.",
            f"When every party has signed, it comes into force on its start date, "
            f"{format_day(draft.start_date)} (or on the day the last party signs, if that "
            "is later)"
            + (f"; version {in_force.number} stays in force until every party has signed."
               if in_force else "."),
            "Until the first party signs, you can take it back to draft.",
        ],
        clauses="Once it is open for signature the clauses are fixed: nobody can change "
                "the text, the clauses or the parties of this version. To change them "
                "later, take it back to draft before anyone signs, or revise it.",
        button="Open for signature",
        action=url_for("mous.open_for_signature", slug=mou.partnership.slug, mou_id=mou.id),
        with_nominees=True,
    )


def _return_words(draft: MouVersion) -> Step:
    mou = draft.mou
    signing = draft.status is VersionStatus.SIGNING
    return Step(
        heading=f"Return version {draft.number} to draft",
        next=[
            ("It is no longer open for signature: nobody can sign it until you open it "
             "again." if signing else "The comment round closes; the comments stay."),
            "We email the people below to say it is back in draft.",
            "You can then change it and send it again.",
        ],
        clauses="Back in draft, the clauses, details and parties can be changed again.",
        button="Return to draft",
        action=url_for("mous.return_to_draft", slug=mou.partnership.slug, mou_id=mou.id),
        with_nominees=signing,
        button_classes="govuk-button--warning",
    )


@bp.route(ONE + "/send-for-comments", methods=["GET", "POST"])
@login_required
def send_for_comments(slug: str, mou_id: int) -> Page:
    return _confirmed_step(
        slug, mou_id, _comments_words,
        services.check_can_send_for_comments,
        lambda draft: services.send_for_comments(current_user, draft),
        "The draft is out for comments. We have emailed the parties' admins.")


@bp.route(ONE + "/open-for-signature", methods=["GET", "POST"])
@login_required
def open_for_signature(slug: str, mou_id: int) -> Page:
    return _confirmed_step(
        slug, mou_id, _signing_words,
        services.check_can_open_for_signature,
        lambda draft: services.open_for_signature(current_user, draft),
        "The MoU is open for signature and can no longer be changed. We have emailed "
        "the parties' admins and nominated signatories.")


@bp.route(ONE + "/return-to-draft", methods=["GET", "POST"])
@login_required
def return_to_draft(slug: str, mou_id: int) -> Page:
    return _confirmed_step(
        slug, mou_id, _return_words,
        services.check_can_return_to_draft,
        lambda draft: services.return_to_draft(current_user, draft),
        "The MoU is back in draft. We have emailed the parties to say so.")


@bp.route(ONE + "/amend", methods=["GET", "POST"])
@login_required
def amend(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    if mou.status is MouStatus.ENDED:
        raise Conflict("This MoU has ended, so it can no longer be amended.")
    form = AmendForm()
    if done := formflow.save(form, lambda: services.start_amendment(
            current_user, mou, form.changelog.data or "")):
        number = done.value.number
        flash(f"Version {number} is a new draft. The version in force stays "
              "in force until every party signs the new one." if mou.has_been_in_force
              else f"Version {number} is a new draft, copied from the version "
              "that was out for signature.", "success")
        return to_mou(partnership, mou)
    return formflow.render("mous/amend.html", form, partnership=partnership, mou=mou,
                           base=mou.draft_version or mou.current_version)


@bp.route(ONE + "/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(slug: str, mou_id: int) -> Page:
    partnership, mou, _access = load_managed(slug, mou_id)
    draft = _pending(mou)
    form = WithdrawForm()
    if formflow.save(form, lambda: services.withdraw(current_user, draft,
                                                      form.reason.data or "")):
        flash(f"Version {draft.number} is withdrawn.", "success")
        return to_mou(partnership, mou)
    return formflow.render("mous/withdraw.html", form, partnership=partnership, mou=mou,
                           version=draft)


# --- Comments ----------------------------------------------------------------------------


def _comment_forms(version: MouVersion) -> dict[str, CommentForm]:
    """A blank form per clause ("clause-<n>") and one for the whole draft ("general")."""
    keys = ["general", *(f"clause-{clause.number}" for clause in version.clauses)]
    return {key: CommentForm(prefix=key, formdata=None, meta={"csrf": False}) for key in keys}


@bp.route(ONE + "/comments", methods=["GET", "POST"])
@login_required
def comments(slug: str, mou_id: int) -> Page:
    partnership, mou, access = load_viewable(slug, mou_id)
    draft = found(mou.draft_version)
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
        if formflow.save(sent, lambda: services.comment(current_user, draft, clause,
                                                        sent.body.data or "")):
            flash("Your comment is added." if clause is None
                  else f"Your comment on clause {clause.number} is added.", "success")
            return see_other("mous.comments", slug=partnership.slug, mou_id=mou.id,
                             _anchor=key)
    return render_template(
        "mous/comments.html", partnership=partnership, mou=mou, version=draft,
        comments=services.comments_for(draft), forms=forms, form=sent,
        can_comment=access.can_comment(draft),
    ), formflow.status_for(sent) if sent is not None else 200


# --- Signing --------------------------------------------------------------------------------


def _signing(slug: str, mou_id: int, organisation_id: int, number: str | None = None
             ) -> tuple[Partnership, Mou, permissions.MouAccess, MouVersion, Any]:
    """The version to sign (the one in progress, or the one the form was for) and the
    party's organisation, if this person is its authorised signatory."""
    partnership, mou, access = load_viewable(slug, mou_id)
    version = whole_number(number, minimum=1) if number else None
    if number and version is None:
        abort(400)
    version_shown = found(services.get_version(mou, version) if version is not None
                          else mou.draft_version)
    party = found(version_shown.party_for(organisation_id))
    if not access.is_authorised_signatory(version_shown, organisation_id):
        abort(403)
    return partnership, mou, access, version_shown, party.organisation


def _render_sign(partnership: Partnership, mou: Mou, version_shown: MouVersion,
                 organisation: Any, form: SignForm, decline_form: ReasonForm,
                 status: int) -> Page:
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
    if not form.is_submitted():
        form.version.data = str(version_shown.number)
        form.name.data = current_user.name
    if form.validate_on_submit():
        if formflow.save(form, lambda: services.sign(
                current_user, version_shown, organisation, form.name.data or "",
                form.role.data or "", form.statement.data or ""), validate=False):
            from_day = standing.in_force_from(version_shown)
            if version_shown.status is VersionStatus.SIGNED and from_day is not None \
                    and from_day > today_uk():
                flash(f"You have signed for {organisation.name}. Every party has now signed, "
                      f"so version {version_shown.number} comes into force on its start "
                      f"date, {format_day(from_day)}.", "success")
            elif version_shown.status is VersionStatus.SIGNED:
                flash(f"You have signed for {organisation.name}. Every party has now signed, "
                      f"so version {version_shown.number} is in force.", "success")
            else:
                flash(f"You have signed version {version_shown.number} for "
                      f"{organisation.name}.", "success")
            return to_mou(partnership, mou)
    elif form.is_submitted():
        # Say why a stale or repeated signature is refused, before any field errors.
        services.check_signable(permissions.mou_access(current_user, partnership),
                                   version_shown, organisation)
    return _render_sign(partnership, mou, version_shown, organisation, form, decline_form,
                        formflow.status_for(form))


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
        if formflow.save(decline_form, lambda: services.decline(
                current_user, version_shown, organisation, decline_form.reason.data or ""),
                validate=False):
            flash(f"You have declined to sign for {organisation.name}. We have told the "
                  "partnership officers your reason.", "success")
            return to_mou(partnership, mou)
    else:
        services.check_signable(access, version_shown, organisation)
    return _render_sign(partnership, mou, version_shown, organisation, form, decline_form,
                        422)


@bp.route(ONE + "/nominate/<int:organisation_id>", methods=["GET", "POST"])
@login_required
def nominate(slug: str, mou_id: int, organisation_id: int) -> Page:
    partnership, mou, access = load_viewable(slug, mou_id)
    draft = mou.draft_version
    party = found(draft.party_for(organisation_id) if draft is not None else None)
    if organisation_id not in access.admin_org_ids:
        abort(403)
    form = NominateForm()
    if done := formflow.save(form, lambda: services.nominate_signatory(
            current_user, party, form.email.data or "")):
        flash(f"{done.value.name} can now sign for {party.organisation.name}. We have emailed "
              "them.", "success")
        return to_mou(partnership, mou)
    return formflow.render("mous/nominate.html", form, partnership=partnership, mou=mou,
                           version=draft, party=party)
