"""Every kind of email the app sends, in one registry: what the settings page calls it,
and who decides whether it is sent.

Each ``mail.queue`` call names its kind. A kind is one of three sorts:

- *essential*: always sent, because missing it would cost the person something they
  cannot get back (their account's safety, a meeting they are going to, the answer to
  their own request). The settings page lists them with the reason they stay on.
- *activity* in a forum or partnership: the person chooses a level for each forum and
  partnership they belong to (every message, only what is about them, or none).
  ``about_me`` says, for that kind, when an email counts as being about its reader.
- *personal*: email meant for the person alone that is not about a group's activity
  (requests waiting for their decision, reminders, actions): one switch each.
- *digest*: the daily or weekly digest (``notifications.digests``), sent to those who
  chose a digest level for a forum or partnership; its unsubscribe link turns digests off.

Several templates can share a kind: the kind is the unit a person turns on or off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Sort(StrEnum):
    ESSENTIAL = "essential"
    ACTIVITY = "activity"
    PERSONAL = "personal"
    DIGEST = "digest"


class Kind(StrEnum):
    # Essential
    ACCOUNT_SECURITY = "account_security"
    MY_MEETING = "my_meeting"
    MY_REQUEST_DECIDED = "my_request_decided"
    MY_APPLICATION = "my_application"
    MY_ROLE = "my_role"
    MANAGER_APPROVAL = "manager_approval"
    INVITATION = "invitation"
    MY_CONCERN = "my_concern"
    # Activity in a forum or partnership
    FORUM_REPLY = "forum_reply"
    MEETING_AGENDA = "meeting_agenda"
    MEETING_MINUTES = "meeting_minutes"
    MOU_PROGRESS = "mou_progress"
    # Personal
    REQUESTS_TO_DECIDE = "requests_to_decide"
    APPLICATIONS_RECEIVED = "applications_received"
    ACTIONS_ASSIGNED = "actions_assigned"
    PLACEMENT_UPDATES = "placement_updates"
    REMINDERS = "reminders"
    CONCERNS_RAISED = "concerns_raised"
    # The daily or weekly digest
    DIGEST = "digest"


# Whether an activity email is about the person reading it: (reader, the template's
# context) -> bool. Imports are inside so the registry loads without the domains.
AboutMe = Callable[[Any, Mapping[str, Any]], bool]


def _in_my_discussion(user: Any, context: Mapping[str, Any]) -> bool:
    """A reply in a discussion the reader started or has posted in."""
    from sqlalchemy import select

    from ..extensions import db
    from ..forums.models import Post

    thread = context["thread"]
    if thread.author_id == user.id:
        return True
    return db.session.scalar(select(Post.id).where(
        Post.thread_id == thread.id, Post.author_id == user.id).limit(1)) is not None


def _my_registration(user: Any, context: Mapping[str, Any]) -> bool:
    """About a meeting the reader has registered for (and not cancelled)."""
    from sqlalchemy import select

    from ..extensions import db
    from ..meetings.models import Registration, RegistrationStatus

    return db.session.scalar(select(Registration.id).where(
        Registration.meeting_id == context["meeting"].id, Registration.user_id == user.id,
        Registration.status != RegistrationStatus.CANCELLED).limit(1)) is not None


def _my_organisation_is_a_party(user: Any, context: Mapping[str, Any]) -> bool:
    """About an MoU the reader's organisation is a party to (they are told as its
    admin), or one they must act on (a partnership officer hearing of a refusal)."""
    return context.get("organisation") is not None


@dataclass(frozen=True)
class KindInfo:
    kind: Kind
    sort: Sort
    label: str  # on the settings page
    why: str = ""  # essential: why it cannot be turned off; others: what it covers
    about_me: AboutMe | None = None  # activity: when it is about the reader
    # Activity: whether the daily and weekly digests carry it. What they do not (MoU
    # steps, a few a year) still comes at once to someone on a digest level.
    in_digest: bool = True

    @property
    def essential(self) -> bool:
        return self.sort is Sort.ESSENTIAL


def _essential(kind: Kind, label: str, why: str) -> KindInfo:
    return KindInfo(kind, Sort.ESSENTIAL, label, why)


def _activity(kind: Kind, label: str, about_me: AboutMe, why: str,
              in_digest: bool = True) -> KindInfo:
    return KindInfo(kind, Sort.ACTIVITY, label, why, about_me, in_digest)


def _personal(kind: Kind, label: str, why: str) -> KindInfo:
    return KindInfo(kind, Sort.PERSONAL, label, why)


REGISTRY: dict[Kind, KindInfo] = {info.kind: info for info in (
    _essential(Kind.ACCOUNT_SECURITY, "Account security",
               "Confirming your email address, resetting your password and telling you "
               "when your email address changes keep your account safe."),
    _essential(Kind.MY_MEETING, "Meetings you registered for",
               "You said you would come, so you need to know if your place changes or "
               "the meeting is cancelled, moved or postponed."),
    _essential(Kind.MY_REQUEST_DECIDED, "Answers to your requests",
               "It is the answer to something you asked for, such as joining a forum, "
               "an organisation or a partnership, or adding an item to an agenda."),
    _essential(Kind.MY_APPLICATION, "Your applications and placements",
               "It is about your own application or placement: it was received, decided, "
               "withdrawn, or a place came free."),
    _essential(Kind.MY_ROLE, "Changes to what you can do",
               "It tells you that you were given or lost a role, such as partnership "
               "officer or opportunity poster, or were removed from a forum."),
    _essential(Kind.MANAGER_APPROVAL, "Requests for your approval as a line manager",
               "Someone named you as their line manager: their application waits for "
               "your answer."),
    _essential(Kind.INVITATION, "Invitations",
               "Sent once, when someone invites you to join a forum."),
    _essential(Kind.MY_CONCERN, "Concerns you raised",
               "It is the answer to a concern you raised about a partnership: that it "
               "was received, acknowledged and responded to."),
    _activity(Kind.FORUM_REPLY, "New replies in discussions", _in_my_discussion,
              "About you: replies in discussions you started or posted in."),
    _activity(Kind.MEETING_AGENDA, "Meeting agendas published or changed", _my_registration,
              "About you: meetings you registered for."),
    _activity(Kind.MEETING_MINUTES, "Meeting minutes published", _my_registration,
              "About you: meetings you registered for."),
    _activity(Kind.MOU_PROGRESS, "Memorandums of understanding (MoUs)",
              _my_organisation_is_a_party,
              "About you: MoUs your organisation is a party to, and refusals you must "
              "deal with as an officer.", in_digest=False),
    _personal(Kind.REQUESTS_TO_DECIDE, "Requests waiting for your decision",
              "People asking to join a forum, organisation or partnership you look after, "
              "agenda item requests, and MoUs you are asked to sign."),
    _personal(Kind.APPLICATIONS_RECEIVED, "Applications to your opportunities",
              "New and withdrawn applications to opportunities you post or are the "
              "contact for."),
    _personal(Kind.ACTIONS_ASSIGNED, "Actions assigned to you",
              "Actions from meeting minutes for you or your organisation."),
    _personal(Kind.PLACEMENT_UPDATES, "Placement updates",
              "Updates and reflections on placements you take part in or host."),
    _personal(Kind.REMINDERS, "Reminders",
              "Reminders that an MoU is due for review."),
    KindInfo(Kind.DIGEST, Sort.DIGEST, "Daily and weekly digests",
             "One email with what happened in the forums and partnerships you chose a "
             "daily or weekly digest for."),
    _personal(Kind.CONCERNS_RAISED, "Concerns raised about partnerships you run",
              "A concern someone raised about how a partnership you are an officer of "
              "engages."),
)}


def info(kind: Kind) -> KindInfo:
    return REGISTRY[kind]


def of_sort(sort: Sort) -> list[KindInfo]:
    """The kinds of one sort, in the registry's order (the settings page's)."""
    return [entry for entry in REGISTRY.values() if entry.sort is sort]
