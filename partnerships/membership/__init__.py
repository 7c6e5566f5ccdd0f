"""One join-request flow, shared by organisations, partnerships and forums.

Each of them lets someone ask to join (a person asks to join an organisation or a
forum; an organisation's admin asks for it to join a partnership), lets the people
who run it approve, or decline with a reason the asker reads, and keeps what was
decided. The rules that are the same live here, once:

- asking (again) puts the link back to "pending" and forgets the last decision;
- only a pending request can be decided, and the decision is a conditional UPDATE
  (``... WHERE status = 'pending'``), so two people deciding at once cannot both win:
  the second is told it has already been decided;
- declining needs a reason (after the state is checked, so a late decision is a
  conflict, not a form error), no longer than the column's limit;
- leaving, withdrawing or being removed records who ended the link, and when;
- asking again and every other change of state are conditional too, on the state
  the request read (``conditional.change``): withdrawing a request at the moment it
  is approved, or sending it twice from two tabs, is refused as having just
  changed, instead of overwriting what the other request decided.

What differs stays explicit in each domain's ``JoinRequests``: its model and status
enum, the column naming what is joined, the column the reason is kept in
(``decline_reason`` or ``reason``), and its own words. Permissions, audit events and
emails stay with the domain's services (who may decide differs, and so do the
messages). The request lists and decline pages share ``templates/membership/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import InstrumentedAttribute, joinedload
from sqlalchemy.sql.base import ExecutableOption

from .. import conditional
from ..accounts.models import User
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..modelbase import utcnow


class JoinLink(Protocol):
    """What every join-request row has (OrganisationMember, PartnershipMember,
    ForumMember)."""

    id: Any
    status: Any
    requested_at: Any
    decided_at: Any
    decided_by_id: Any


L = TypeVar("L", bound=JoinLink)


@dataclass(frozen=True)
class JoinRequests(Generic[L]):
    """One domain's join requests: the shared rules, with what differs stated here."""

    model: type[L]
    # The column naming what is joined (organisation_id, partnership_id, forum_id).
    parent: InstrumentedAttribute[int]
    # The status enum: its PENDING, ACTIVE and DECLINED members are the flow's states.
    statuses: type[StrEnum]
    # The column that keeps the reason for a decline (or a removal).
    reason_column: str
    # Conflict when the request is no longer waiting, e.g. "This request has already
    # been decided, perhaps by another admin."
    already_decided: str
    # ValidationError when declining without a reason.
    reason_required: str
    # The reason's limit, checked by the service too (None: the form alone checks it),
    # and the message when it is longer.
    reason_max: int | None = None
    reason_too_long: str = ""
    # Conflict when the link changed between reading it and changing it.
    changed_meanwhile: str = ("This has just changed, perhaps from another tab or by "
                              "someone else at the same moment. Check it and try again.")
    # Called with (link, status before, status after) when a saved link's status has
    # been changed in SQL (which runs no ORM events), in the same transaction: what
    # keeps a stored count in step (``forums/counts.py``).
    moved: Callable[[Any, StrEnum, StrEnum], None] | None = None

    @property
    def pending(self) -> StrEnum:
        return self.statuses["PENDING"]

    @property
    def active(self) -> StrEnum:
        return self.statuses["ACTIVE"]

    @property
    def declined(self) -> StrEnum:
        return self.statuses["DECLINED"]

    # --- Reading -----------------------------------------------------------------------

    def waiting(self, parent_id: int, *options: ExecutableOption) -> list[L]:
        """Requests waiting for a decision, oldest first."""
        model: Any = self.model
        return list(db.session.scalars(
            select(model)
            .where(self.parent == parent_id, model.status == self.pending)
            .order_by(model.requested_at, model.id)
            .options(*options)
        ))

    def by_name(self, condition: Any, named: Any, *options: ExecutableOption,
                statuses: Iterable[StrEnum] | None = None) -> list[L]:
        """Links that meet ``condition`` (active ones, or those in ``statuses``) in order
        of the name of what the ``named`` relationship leads to (the organisation, the
        partnership, the forum), which is loaded in the same query, with ``options``."""
        model: Any = self.model
        state = (model.status == self.active if statuses is None
                 else model.status.in_(list(statuses)))
        return list(db.session.scalars(
            select(model).join(named).where(condition, state)
            .order_by(func.lower(named.property.mapper.class_.name))
            .options(joinedload(named), *options)
        ))

    def waiting_counts(self, parent_ids: Iterable[int] | None = None) -> dict[int, int]:
        """Requests waiting per parent id, in one query (every parent when ``None``)."""
        model: Any = self.model
        query = (select(self.parent, func.count(model.id))
                 .where(model.status == self.pending).group_by(self.parent))
        if parent_ids is not None:
            ids = list(parent_ids)
            if not ids:
                return {}
            query = query.where(self.parent.in_(ids))
        return dict(db.session.execute(query).tuples().all())

    def one(self, parent_id: int, link_id: int, *options: ExecutableOption) -> L | None:
        """One link of this parent, in any state (None if it belongs to another one)."""
        model: Any = self.model
        return db.session.scalar(
            select(model).where(model.id == link_id, self.parent == parent_id)
            .options(*options)
        )

    # --- Changing ----------------------------------------------------------------------

    def refuse_repeat(self, link: L | None, already_member: str, already_asked: str) -> None:
        """A member, or someone already waiting, cannot ask again (Conflict: the same
        request sent twice, e.g. from two tabs, is not a form error)."""
        if link is not None and link.status is self.active:
            raise Conflict(already_member)
        if link is not None and link.status is self.pending:
            raise Conflict(already_asked)

    def ask(self, link: L, **fields: Any) -> L:
        """Put a (new or old) link back to waiting, with what the asker sent, and forget
        the last decision."""
        self._change(link, {"status": self.pending, "requested_at": utcnow(),
                            "decided_at": None, "decided_by_id": None,
                            self.reason_column: "", **fields})
        return link

    def decide(self, actor: User, link: L, approve: bool, reason: str = "") -> str:
        """Approve, or decline with a reason; returns the reason as kept. The caller has
        checked that ``actor`` may decide, and records and emails the decision."""
        if link.status is not self.pending:
            raise Conflict(self.already_decided)
        reason = reason.strip()
        if not approve and not reason:
            raise ValidationError(self.reason_required, field="reason")
        if self.reason_max is not None and len(reason) > self.reason_max:
            raise ValidationError(self.reason_too_long, field="reason")
        model: Any = self.model
        changed = db.session.execute(
            update(model)
            .where(model.id == link.id, model.status == self.pending)
            .values({"status": self.active if approve else self.declined,
                     "decided_at": utcnow(), "decided_by_id": actor.id,
                     self.reason_column: "" if approve else reason})
            .execution_options(synchronize_session="evaluate")
        )
        if getattr(changed, "rowcount", 1) != 1:
            raise Conflict(self.already_decided)
        if self.moved is not None:
            self.moved(link, self.pending, self.active if approve else self.declined)
        return reason

    def set_state(self, actor: User, link: L, status: StrEnum, **fields: Any) -> None:
        """Any other change of state (left, withdrawn, removed; joined an open forum at
        once): who made it, and when."""
        self._change(link, {"status": status, "decided_at": utcnow(),
                            "decided_by_id": actor.id, **fields})

    def _change(self, link: L, values: dict[str, Any]) -> None:
        """Set ``values`` on a new link; on a saved one, only if its status is still the
        one read (else ``changed_meanwhile``)."""
        state: Any = inspect(link)
        if not state.persistent:
            for name, value in values.items():
                setattr(link, name, value)
            return
        model: Any = self.model
        was = link.status
        if not conditional.change(link, model.status == was, **values):
            raise Conflict(self.changed_meanwhile)
        if self.moved is not None and "status" in values:
            self.moved(link, was, values["status"])


# What each step of the flow is called in a history, in plain English, by the name of
# the event (a domain's audit actions add their own prefix, such as "forum.member_").
HISTORY_LABELS = {
    "requested": "Asked to join",
    "joined": "Joined",
    "approved": "Approved a request to join",
    "declined": "Declined a request to join",
    "withdrew": "Withdrew their request to join",
}


def history_labels(prefix: str, **more: str) -> dict[str, str]:
    """The history's words for a domain's audit actions (``prefix`` + event name), with
    the domain's own events added."""
    return {prefix + event: label for event, label in {**HISTORY_LABELS, **more}.items()}
