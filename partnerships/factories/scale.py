"""A large, reproducible data set for the benchmarks: ``flask seed scale``.

At ``fraction=1.0``: 50 partnerships, 2,000 organisations, 10,000 people, 20,000
meetings with agendas, 100,000 forum posts, 1,000 opportunities and 500 MoUs; any
other fraction scales every count (0.1 gives one tenth). The same fraction and seed
always give the same rows; only the times move, since they count from when it runs
(so "upcoming" meetings stay upcoming).

Why bulk rows here, when the other builders go through the services: the services
take a few milliseconds a call and the full set needs about a million rows, which
would take hours. So this module writes the rows themselves, in batches (Core
``INSERT`` of lists of dicts), as the services would leave them: every NOT NULL
column set, statuses consistent with their timestamps (a published agenda has its
publication time and notice, published minutes their time, a signed version every
party's signature), counters that match their rows (a thread's ``reply_count`` and
``last_post_id``, a meeting's ``places_taken``), convenors who are active members,
and the reading state the discussion services keep for each author.
``tests/test_bench.py`` checks those invariants on a small build and uses the
services on it (reply, register), so a change to the rules that this module misses
shows up there.

The shape is deliberately lopsided so that the benchmarks see growth: the first
partnership (``landmarks``) takes ``MAIN_SHARE`` of the organisations, meetings, posts
and opportunities (``MOU_SHARE`` of the MoUs), and so ten times as many at full size as
at one tenth; its first forum takes ``FIRST_FORUM_SHARE`` of the partnership's meetings
and posts. So even at one tenth the pages the benchmarks open have a full first page
(twenty discussions, twenty MoUs, twenty upcoming meetings), and what grows from one
tenth to full is what lies beyond it. That forum also holds a discussion with
``BIG_THREAD_REPLIES`` replies at any size (fewer only when the fraction is too small
to have that many posts).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import func, insert, select, text, update

from ..accounts.models import User
from ..extensions import db
from ..forums import counts as forum_counts
from ..forums.models import (
    Forum,
    ForumConvenor,
    ForumMember,
    ForumMemberStatus,
    MembershipPolicy,
    Post,
    Subscription,
    Thread,
    ThreadState,
    Visibility,
)
from ..meetings.agenda import notice_met
from ..meetings.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    AgendaStatus,
    Attendance,
    Decision,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    MinutesStatus,
    Registration,
    RegistrationStatus,
    Response,
    StandardItem,
)
from ..meetings.registrations import answers_for_format
from ..modelbase import utcnow
from ..mous.models import (
    EndKind,
    Mou,
    MouClause,
    MouForumLink,
    MouParty,
    MouPrinciple,
    MouSignature,
    MouStatus,
    MouVersion,
    VersionStatus,
    mou_clause_parties,
)
from ..mous.services import statement_for
from ..opportunities.models import (
    NO_APPROVAL_MAX_DAYS,
    LocationKind,
    OpenTo,
    Opportunity,
    OpportunityKind,
    OpportunityStatus,
)
from ..organisations.models import (
    IncomeBand,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrgType,
    RequestStatus,
    sort_name,
)
from ..partnership import listing
from ..partnership.models import (
    Partnership,
    PartnershipMember,
    PartnershipOfficer,
    PartnershipPrinciple,
    Principle,
)
from ..slugs import slugify
from ..timeutil import to_uk, uk_local_to_utc
from .accounts import PASSWORD, password_hash

SEED = 13
MAIN_SHARE = 0.2
MOU_SHARE = 0.4
FIRST_FORUM_SHARE = 0.25
THREAD_MEAN_POSTS = 10
BIG_THREAD_REPLIES = 500
FORUMS_PER_PARTNERSHIP = 6
MAIN_FORUMS = 12
PAST_DAYS = 5 * 365  # meetings run from five years ago ...
FUTURE_DAYS = 540  # ... to about eighteen months ahead (the calendar feeds' window)
BATCH = 5000


@dataclass(frozen=True)
class Sizes:
    partnerships: int = 50
    organisations: int = 2000
    users: int = 10_000
    meetings: int = 20_000
    posts: int = 100_000
    opportunities: int = 1000
    mous: int = 500

    def scaled(self, fraction: float) -> Sizes:
        def n(full: int, least: int) -> int:
            return max(least, round(full * fraction))

        return Sizes(partnerships=n(self.partnerships, 1),
                     organisations=n(self.organisations, 4),
                     users=max(n(self.users, 20), 2 * n(self.organisations, 4)),
                     meetings=n(self.meetings, 10),
                     posts=n(self.posts, 40), opportunities=n(self.opportunities, 2),
                     mous=n(self.mous, 2))


FULL = Sizes()

# --- Words -------------------------------------------------------------------------------

_PLACE_STARTS = ["North", "South", "East", "West", "Upper", "Lower", "Kings", "Queens",
                 "Market", "Old", "New", "Great", "Little", "High", "Long"]
_PLACE_ENDS = ["bridge", "moor", "field", "ford", "ham", "wick", "stead", "borough",
               "dale", "combe", "haven", "gate", "mouth", "worth", "ley"]
_CAUSES = ["Food Bank", "Advice Centre", "Carers Network", "Youth Trust", "Women's Aid",
           "Mind", "Community Transport", "Arts Collective", "Credit Union",
           "Refugee Welcome", "Men's Sheds", "Tenants' Federation", "Age Concern",
           "Disability Forum", "Sports Foundation", "Gardening Project", "Debt Clinic",
           "Housing Trust", "Learning Partnership", "Befriending Service"]
_PUBLIC = {
    OrgType.LOCAL_AUTHORITY: "{place} Borough Council",
    OrgType.NHS_BODY: "{place} Community Health NHS Trust",
    OrgType.POLICE: "{place} Police",
    OrgType.FIRE: "{place} Fire and Rescue Service",
    OrgType.EDUCATION: "{place} College",
    OrgType.OTHER_PUBLIC: "{place} Library Service",
}
_VCSE = [OrgType.CHARITY, OrgType.CIC, OrgType.COMMUNITY_GROUP, OrgType.FAITH_GROUP,
         OrgType.HOUSING_ASSOCIATION]
_FIRST = ["Amira", "Ben", "Chloe", "Dev", "Ewa", "Femi", "Grace", "Hamza", "Isla", "Jon",
          "Kemi", "Liam", "Maya", "Nadia", "Owen", "Priya", "Rhys", "Sana", "Tom", "Una",
          "Vikram", "Wendy", "Yusuf", "Zoe"]
_LAST = ["Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Green", "Hughes",
         "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Okafor", "Patel", "Quinn",
         "Roberts", "Singh", "Taylor", "Usman", "Walker", "Young"]
_THEMES = ["Health and wellbeing", "Community safety", "Housing", "Cost of living",
           "Children and young people", "Older people", "Climate and green spaces",
           "Employment and skills", "Volunteering", "Mental health", "Transport",
           "Digital inclusion", "Arts and culture", "Food", "Refugees and migrants"]
_TOPICS = ["winter pressures", "the warm spaces scheme", "hospital discharge",
           "the youth offer", "volunteer recruitment", "community grants",
           "the joint strategic needs assessment", "damp and mould", "debt advice referrals",
           "the neighbourhood plan", "social prescribing", "data sharing", "the summer programme",
           "commissioning intentions", "the anti-poverty strategy", "funding bids"]
_WORDS = " ".join([
    "we have seen more people asking for help this month and the team is stretched",
    "but the new referral route is working well and partners say the shared form",
    "saves time next steps are to agree who leads on the evaluation and to bring",
    "figures to the next meeting so that the board can decide about funding"]).split()


def _sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random, sentences: int = 3) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def _markdown(rng: random.Random, paragraphs: int = 2) -> str:
    """A few paragraphs of Markdown: sometimes bold, sometimes a list, sometimes a link."""
    parts = [_paragraph(rng, rng.randint(1, 3)) for _ in range(paragraphs)]
    roll = rng.random()
    if roll < 0.25:
        parts.append("\n".join(f"- {_sentence(rng, 3, 8)}" for _ in range(rng.randint(2, 4))))
    elif roll < 0.4:
        parts[0] = f"**{rng.choice(_TOPICS).capitalize()}.** " + parts[0]
    elif roll < 0.5:
        parts.append("See [the shared notes](https://example.org/notes) for details.")
    return "\n\n".join(parts)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


# --- Writing -------------------------------------------------------------------------------


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    it = iter(rows)
    while batch := list(islice(it, BATCH)):
        yield batch


def _insert(model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same keys) in batches; return how many."""
    table = model if hasattr(model, "c") else model.__table__
    count = 0
    for batch in _batches(rows):
        db.session.execute(insert(table), batch)
        count += len(batch)
    return count


class _Ids:
    """Ids given out in order, so rows can point at each other before they are written
    (the tables are empty when the build starts)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self._next.get(table, 1)
        self._next[table] = value + 1
        return value


# --- The build ----------------------------------------------------------------------------


@dataclass
class _Org:
    id: int
    name: str
    org_type: OrgType
    admin_id: int = 0
    user_ids: list[int] | None = None


@dataclass
class _Forum:
    id: int
    partnership: int
    visibility: Visibility
    policy: MembershipPolicy
    notice_days: int
    members: list[int]  # active members (convenors first)
    convenors: list[int]


class _Builder:
    def __init__(self, fraction: float, seed: int) -> None:
        self.sizes = FULL.scaled(fraction)
        self.rng = random.Random(seed)
        self.now = utcnow().replace(second=0, microsecond=0)
        self.ids = _Ids()
        self.counts: dict[str, int] = {}
        self.hash = password_hash(PASSWORD)

    def count(self, what: str, n: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    # People and organisations -------------------------------------------------------------

    def partnerships_and_people(self) -> None:
        rng, s = self.rng, self.sizes
        places = [f"{a}{b}" for a in _PLACE_STARTS for b in _PLACE_ENDS]
        rng.shuffle(places)
        if "Northbridge" in places:
            places.remove("Northbridge")
        places.insert(0, "Northbridge")
        self.places = places[: s.partnerships]
        self.partnership_ids = list(range(1, s.partnerships + 1))
        users = []
        for u in range(1, s.users + 1):
            created = self.ago(rng.uniform(30, 2000))
            users.append({
                "id": u, "email": f"user{u:05d}@scale.example.org",
                "name": "Site administrator" if u == 1 else _person(rng),
                "password_hash": self.hash, "email_confirmed_at": created,
                "is_site_admin": u == 1, "session_token": f"{rng.getrandbits(128):032x}",
                "created_at": created, "updated_at": created,
            })
        self.count("users", _insert(User, users))
        self.user_names = {row["id"]: row["name"] for row in users}

        # Organisations: the first few of each partnership in turn, then MAIN_SHARE to
        # the first partnership and the rest spread over the others.
        orgs: list[_Org] = []
        self.home: dict[int, int] = {}
        names: set[str] = set()
        for o in range(1, s.organisations + 1):
            if o <= 4 * s.partnerships:
                home = (o - 1) % s.partnerships + 1
            elif s.partnerships == 1 or rng.random() < MAIN_SHARE:
                home = 1
            else:
                home = rng.randint(2, s.partnerships)
            place = self.places[home - 1]
            if o <= 2 * s.partnerships or rng.random() < 0.15:
                org_type = rng.choice(list(_PUBLIC))
                name = _PUBLIC[org_type].format(place=place)
            else:
                org_type = rng.choice(_VCSE)
                name = f"{place} {rng.choice(_CAUSES)}"
            base, n = name, 2
            while name.lower() in names:
                name, n = f"{base} {n}", n + 1
            names.add(name.lower())
            orgs.append(_Org(o, name, org_type, user_ids=[]))
            self.home[o] = home
        # People 2.. belong to organisations in turn; the first of each is its admin.
        for u in range(2, s.users + 1):
            org = orgs[(u - 2) % len(orgs)]
            assert org.user_ids is not None
            org.user_ids.append(u)
        rows, links = [], []
        bands = list(IncomeBand)
        for org in orgs:
            assert org.user_ids is not None
            org.admin_id = org.user_ids[0] if org.user_ids else 1
            created = self.ago(rng.uniform(400, 2000))
            rows.append({
                "id": org.id, "slug": slugify(org.name), "name": org.name,
                "sort_name": sort_name(org.name),
                "org_type": org.org_type, "income_band": rng.choice(bands),
                "website": f"https://{slugify(org.name)}.example.org",
                "description": _paragraph(rng, 2), "created_by_id": org.admin_id,
                "email_domains": "", "require_manager_email_domain": False,
                "charity_number": None, "company_number": None,
                "created_at": created, "updated_at": created,
            })
            for position, user_id in enumerate(org.user_ids):
                joined = created + timedelta(days=rng.uniform(0, 300))
                links.append({
                    "organisation_id": org.id, "user_id": user_id,
                    "role": MemberRole.ADMIN if position == 0 else MemberRole.MEMBER,
                    "status": RequestStatus.ACTIVE, "job_title": rng.choice(
                        ["Chief Executive", "Manager", "Project worker", "Volunteer lead",
                         "Officer", "Coordinator"]),
                    "message": "", "requested_at": None if position == 0 else joined,
                    "decided_at": None if position == 0 else joined,
                    "decided_by_id": None if position == 0 else org.admin_id,
                    "decline_reason": "", "created_at": joined, "updated_at": joined,
                })
        self.count("organisations", _insert(Organisation, rows))
        self.count("organisation memberships", _insert(OrganisationMember, links))
        self.orgs = orgs

        # Partnerships, their officers (the admins of their first two organisations) and
        # members (every organisation of its place; some in a second partnership too).
        self.members_of: dict[int, list[_Org]] = {p: [] for p in self.partnership_ids}
        for org in orgs:
            self.members_of[self.home[org.id]].append(org)
        rows, principles, officers, members = [], [], [], []
        self.officers: dict[int, list[int]] = {}
        for p in self.partnership_ids:
            place = self.places[p - 1]
            created = self.ago(rng.uniform(900, 2000))
            name = (f"{place} City Region Partnership" if p == 1
                    else f"{place} Partnership")
            rows.append({
                "id": p, "slug": slugify(name), "name": name, "place": place,
                "description": "\n\n".join([
                    f"## About {place}", _paragraph(rng, 3), _markdown(rng, 2)]),
                "contact_email": f"partnership@{slugify(place)}.example.org",
                "created_by_id": 1, "created_at": created, "updated_at": created,
            })
            for principle in rng.sample(list(Principle), rng.randint(1, 3)):
                principles.append({"partnership_id": p, "principle": principle})
            firsts = self.members_of[p][:2]
            self.officers[p] = [org.admin_id for org in firsts]
            for org in firsts:
                officers.append({
                    "partnership_id": p, "user_id": org.admin_id,
                    "role_title": "Partnership officer", "organisation_id": org.id,
                    "appointed_by_id": 1, "created_at": created, "updated_at": created,
                })
        second: list[tuple[int, _Org]] = []
        if len(self.partnership_ids) > 1:
            for org in orgs:
                if rng.random() < 0.08:
                    other = rng.choice([p for p in self.partnership_ids if p != self.home[org.id]])
                    second.append((other, org))
        for p, org in [(self.home[org.id], org) for org in orgs] + second:
            pending = (p, org) in second and rng.random() < 0.3
            asked = self.ago(rng.uniform(30, 800))
            members.append({
                "partnership_id": p, "organisation_id": org.id,
                "status": RequestStatus.PENDING if pending else RequestStatus.ACTIVE,
                "message": "We would like to take part.", "requested_by_id": org.admin_id,
                "requested_at": asked, "decided_by_id": None if pending else self.officers[p][0],
                "decided_at": None if pending else asked + timedelta(days=2),
                "decline_reason": "", "created_at": asked, "updated_at": asked,
            })
            if not pending and (p, org) in second:
                self.members_of[p].append(org)
        self.count("partnerships", _insert(Partnership, rows))
        _insert(PartnershipPrinciple, principles)
        self.count("partnership officers", _insert(PartnershipOfficer, officers))
        self.count("partnership memberships", _insert(PartnershipMember, members))
        # A bulk insert skips listing.py's insert hook: fill the organisations' copies.
        listing.refresh(db.session.connection())

    # Forums and discussions -----------------------------------------------------------------

    def forums(self) -> None:
        rng = self.rng
        forums, convenors, memberships = [], [], []
        self.forum_list: list[_Forum] = []
        self.forums_of: dict[int, list[_Forum]] = {}
        slugs_by_partnership: dict[int, set[str]] = {}
        for p in self.partnership_ids:
            people = sorted({u for org in self.members_of[p] for u in (org.user_ids or [])})
            admin_org = {org.admin_id: org.id for org in self.members_of[p]}
            count = MAIN_FORUMS if p == 1 else FORUMS_PER_PARTNERSHIP
            themes = rng.sample(_THEMES, count)
            self.forums_of[p] = []
            for i, theme in enumerate(themes):
                forum_id = self.ids.take("forums")
                # The main partnership's first forum is open and public: the benchmarks
                # read its discussions anonymously.
                visibility = (Visibility.PUBLIC if (p, i) == (1, 0) or rng.random() < 0.8
                              else Visibility.MEMBERS)
                policy = (MembershipPolicy.OPEN if (p, i) == (1, 0) else rng.choices(
                    list(MembershipPolicy), weights=[40, 45, 15])[0])
                name = f"{theme} forum"
                slug = slugify(name)
                assert slug not in slugs_by_partnership.setdefault(p, set())
                slugs_by_partnership[p].add(slug)
                created = self.ago(rng.uniform(PAST_DAYS + 30, PAST_DAYS + 200))
                forums.append({
                    "id": forum_id, "partnership_id": p, "slug": slug, "name": name,
                    "purpose": _markdown(rng, 2), "theme": theme,
                    "tags": ",".join(sorted({theme.split()[0].lower(), "partnership"})),
                    "membership_policy": policy, "visibility": visibility,
                    "notice_days": 5, "created_by_id": self.officers[p][0],
                    "created_at": created, "updated_at": created,
                })
                # Convenors: an officer for some, and one or two people from the place.
                chosen = rng.sample(people, min(len(people), rng.randint(1, 2)))
                if i % 3 == 0 and self.officers[p][0] not in chosen:
                    chosen.insert(0, self.officers[p][0])
                joiners = rng.sample(people, min(len(people), rng.randint(
                    len(people) // 6, max(len(people) // 6, len(people) // 3))))
                if p == 1 and self.officers[1][0] not in chosen:
                    joiners.append(self.officers[1][0])  # the benchmarks' person: in every one
                active = list(chosen)
                for user_id in chosen:
                    convenors.append({
                        "forum_id": forum_id, "user_id": user_id,
                        "organisation_id": admin_org.get(user_id),
                        "created_at": created, "updated_at": created,
                    })
                    memberships.append(self._membership(
                        forum_id, user_id, ForumMemberStatus.ACTIVE, created, None,
                        admin_org.get(user_id)))
                for user_id in dict.fromkeys(joiners):
                    if user_id in chosen:
                        continue
                    asked = created + timedelta(days=rng.uniform(1, 300))
                    roll = 1.0 if user_id == self.officers[1][0] else rng.random()
                    if policy is MembershipPolicy.BY_REQUEST and roll < 0.05:
                        status = ForumMemberStatus.PENDING
                    elif roll < 0.08:
                        status = ForumMemberStatus.LEFT
                    else:
                        status = ForumMemberStatus.ACTIVE
                        active.append(user_id)
                    decider = None if policy is MembershipPolicy.OPEN else chosen[0]
                    memberships.append(self._membership(
                        forum_id, user_id, status, asked, decider,
                        admin_org.get(user_id) if rng.random() < 0.5 else None))
                record = _Forum(forum_id, p, visibility, policy, 5, active, chosen)
                self.forum_list.append(record)
                self.forums_of[p].append(record)
        self.count("forums", _insert(Forum, forums))
        _insert(ForumConvenor, convenors)
        self.count("forum memberships", _insert(ForumMember, memberships))
        forum_counts.refresh(db.session.connection())  # a bulk insert skips counts.py's hooks

    def _membership(self, forum_id: int, user_id: int, status: ForumMemberStatus,
                    asked: datetime, decider: int | None, org_id: int | None) -> dict[str, Any]:
        decided = asked + timedelta(days=1)
        pending = status is ForumMemberStatus.PENDING
        return {
            "forum_id": forum_id, "user_id": user_id, "organisation_id": org_id,
            "status": status, "introduction": "", "requested_at": asked,
            "decided_at": None if pending else decided,
            "decided_by_id": None if pending else decider, "reason": "",
            "created_at": asked, "updated_at": asked if pending else decided,
        }

    def _shares(self, total: int, first_share: float = FIRST_FORUM_SHARE) -> dict[int, int]:
        """How many of ``total`` each forum gets: MAIN_SHARE to the first partnership's
        forums (``first_share`` of that to its first, the rest evenly), the rest
        spread evenly over the others' (or all to the first when there is one
        partnership)."""
        main = self.forums_of[1]
        others = [f for f in self.forum_list if f.partnership != 1]
        main_total = total if not others else round(total * MAIN_SHARE)
        shares = {f.id: 0 for f in self.forum_list}
        first = round(main_total * first_share) if len(main) > 1 else main_total
        shares[main[0].id] = first
        for i in range(main_total - first):
            shares[main[1 + i % (len(main) - 1)].id] += 1
        for i in range(total - main_total):
            shares[others[i % len(others)].id] += 1
        return shares

    def discussions(self) -> None:
        rng, s = self.rng, self.sizes
        threads, posts = [], []
        states: dict[tuple[int, int], dict[str, Any]] = {}
        big_forum = self.forums_of[1][0]
        big = min(BIG_THREAD_REPLIES, s.posts // 2)
        shares = self._shares(s.posts - (big + 1))
        shares[big_forum.id] += big + 1
        post_id = 0
        for forum in self.forum_list:
            budget = shares[forum.id]
            sizes: list[int] = []
            if forum is big_forum:
                sizes.append(big + 1)
                budget -= big + 1
            while budget > 0:
                n = min(budget, 1 + int(rng.expovariate(1 / (THREAD_MEAN_POSTS - 1))))
                sizes.append(n)
                budget -= n
            authors = forum.members
            for index, n in enumerate(sizes):
                thread_id = self.ids.take("threads")
                started = self.ago(rng.uniform(5, 3 * 365))
                if index == 0 and forum is big_forum:
                    started = self.ago(200)
                    title = "Winter pressures: what is working, and what is not?"
                else:
                    title = f"{rng.choice(_TOPICS).capitalize()}: {_sentence(rng, 3, 7)[:-1]}"
                at = started
                step = (self.now - started) / (n + 1)
                last_post = 0
                for k in range(n):
                    post_id += 1
                    author = authors[0] if k == 0 else rng.choice(authors)
                    at = started + step * k
                    hidden = k > 0 and rng.random() < 0.005
                    posts.append({
                        "id": post_id, "thread_id": thread_id, "author_id": author,
                        "body": _markdown(rng, rng.randint(1, 3)), "edited_at": None,
                        "hidden_at": at + timedelta(hours=3) if hidden else None,
                        "hidden_by_id": forum.convenors[0] if hidden else None,
                        "hidden_reason": "Personal details about a client." if hidden else "",
                        "created_at": at, "updated_at": at,
                    })
                    last_post = post_id
                    # What the discussion services keep: authors follow, and have read
                    # up to their own latest post.
                    state = states.setdefault((author, thread_id), {
                        "user_id": author, "thread_id": thread_id,
                        "subscription": Subscription.FOLLOWING})
                    state["last_read_post_id"] = post_id
                threads.append({
                    "id": thread_id, "forum_id": forum.id, "title": title[:160],
                    "author_id": authors[0], "pinned": index == 0 and rng.random() < 0.3,
                    "locked": rng.random() < 0.02, "reply_count": n - 1,
                    "last_post_id": last_post, "last_post_at": at,
                    "created_at": started, "updated_at": at,
                })
        self.count("discussions", _insert(Thread, threads))
        self.count("posts", _insert(Post, posts))
        _insert(ThreadState, states.values())

    # Meetings ---------------------------------------------------------------------------------

    def meetings(self) -> None:
        rng, s = self.rng, self.sizes
        # Meetings spread evenly over the main partnership's forums (a forum meets
        # about weekly at full size): its first forum's share is for discussions.
        shares = self._shares(s.meetings, first_share=1 / max(1, len(self.forums_of[1])))
        meetings, items, registrations, decisions, actions = [], [], [], [], []
        start_day = to_uk(self.ago(PAST_DAYS)).date()
        span = PAST_DAYS + FUTURE_DAYS
        venues = ["Civic Centre", "Community Hub", "Town Hall", "Library", "Fire Station"]
        for forum in self.forum_list:
            n = shares[forum.id]
            if not n:
                continue
            step = span / n
            place = self.places[forum.partnership - 1]
            minuted: list[int] = []  # this forum's meetings with minutes, in order
            forum_actions: list[tuple[int, dict[str, Any]]] = []
            for k in range(n):
                meeting_id = self.ids.take("meetings")
                day = start_day + timedelta(days=int(step * k + rng.uniform(0, step * 0.8)))
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                hour = rng.choice([10, 13, 14, 18])
                starts_at = uk_local_to_utc(day, time(hour))
                ends_at = uk_local_to_utc(day, time(hour + 2))
                past = ends_at <= self.now
                meeting_format = rng.choices(list(MeetingFormat), weights=[40, 30, 30])[0]
                members_only = (forum.visibility is Visibility.MEMBERS
                                or rng.random() < 0.08)
                created = min(self.now, starts_at - timedelta(days=rng.uniform(20, 90)))
                cancelled = rng.random() < 0.03
                postponed = not past and not cancelled and rng.random() < 0.01
                capacity = (rng.choice([20, 30, 40, 60]) if meeting_format.has_venue
                            and rng.random() < 0.5 else None)
                published_at = starts_at - timedelta(days=rng.uniform(8, 20))
                agenda_published = published_at <= self.now and not cancelled
                changed = created
                status = MeetingStatus.SCHEDULED
                status_changed = None
                if cancelled or postponed:
                    status = MeetingStatus.CANCELLED if cancelled else MeetingStatus.POSTPONED
                    status_changed = min(self.now, starts_at - timedelta(days=3))
                    changed = max(changed, status_changed)
                minutes = (past and not cancelled
                           and ends_at < self.now - timedelta(days=14) and rng.random() < 0.85)
                minutes_published = minutes and rng.random() < 0.9
                minutes_at = ends_at + timedelta(days=7) if minutes_published else None
                title = f"{rng.choice(['Quarterly', 'Monthly', 'Steering', 'Open'])} meeting"
                row = {
                    "id": meeting_id, "forum_id": forum.id,
                    "partnership_id": forum.partnership, "series_id": None,
                    "occurrence_date": None,
                    "title": f"{title}: {rng.choice(_TOPICS)}",
                    "description": _markdown(rng, 1),
                    "starts_at": starts_at, "ends_at": ends_at, "format": meeting_format,
                    "venue_name": f"{place} {rng.choice(venues)}"
                    if meeting_format.has_venue else "",
                    "venue_address": f"1 High Street, {place}" if meeting_format.has_venue
                    else "",
                    "step_free_access": True if meeting_format.has_venue else None,
                    "hearing_loop": rng.random() < 0.5 if meeting_format.has_venue else None,
                    "parking": "", "public_transport": "", "access_notes": "",
                    "joining_url": "https://meet.example.org/" + f"{meeting_id:06d}"
                    if meeting_format.is_online else "",
                    "joining_details": "", "capacity": capacity, "places_taken": 0,
                    "visibility": Visibility.MEMBERS if members_only else Visibility.PUBLIC,
                    "status": status,
                    "status_reason": "The venue is not available." if status_changed else "",
                    "status_changed_at": status_changed,
                    "agenda_status": AgendaStatus.PUBLISHED if agenda_published
                    else AgendaStatus.DRAFT,
                    "agenda_published_at": published_at if agenda_published else None,
                    "notice_met": notice_met(to_uk(published_at).date(), day,
                                             forum.notice_days) if agenda_published else None,
                    "minutes_status": MinutesStatus.PUBLISHED if minutes_published
                    else MinutesStatus.DRAFT if minutes else MinutesStatus.NONE,
                    "minutes_summary": _markdown(rng, 2) if minutes else "",
                    "minutes_published_at": minutes_at,
                    "sequence": 1 if status_changed else 0, "changed_at": changed,
                    "created_by_id": forum.convenors[0],
                    "created_at": created,
                    "updated_at": max(changed, minutes_at or changed,
                                      published_at if agenda_published else changed),
                }
                # The agenda: welcome, two to four topics, any other business.
                titles = [(StandardItem.WELCOME.title, StandardItem.WELCOME)] + [
                    (rng.choice(_TOPICS).capitalize(), None)
                    for _ in range(rng.randint(2, 4))] + [
                    (StandardItem.AOB.title, StandardItem.AOB)]
                item_ids: list[int] = []
                for position, (item_title, standard) in enumerate(titles, start=1):
                    item_id = self.ids.take("items")
                    item_ids.append(item_id)
                    items.append({
                        "id": item_id, "meeting_id": meeting_id, "position": position,
                        "title": item_title, "standard": standard,
                        "presenter_id": rng.choice(forum.members) if standard is None
                        else None,
                        "presenter_organisation_id": None, "presenter_name": "",
                        "minutes_allowed": 10 if standard else rng.choice([15, 20, 30]),
                        "notes": "" if standard else _markdown(rng, 1),
                        "minutes": _paragraph(rng, 2) if minutes and standard is None else "",
                        "created_at": created, "updated_at": created,
                    })
                # Registrations: some active members answer (capacity respected), and,
                # once it is over, the organisers record who came.
                held = 0
                if not cancelled:
                    allowed = answers_for_format(meeting_format)
                    people = rng.sample(forum.members,
                                        min(len(forum.members), rng.randint(3, 10)))
                    for user_id in people:
                        response = rng.choice(allowed)
                        # As ``registrations.takes_place``: the answer the format counts.
                        takes = response is not Response.APOLOGIES and (
                            response is Response.ONLINE
                            if meeting_format is MeetingFormat.ONLINE
                            else response is Response.IN_PERSON)
                        if takes and capacity is not None and held >= capacity:
                            continue
                        held += takes
                        answered = min(self.now, starts_at - timedelta(days=rng.uniform(1, 15)))
                        attendance = None
                        if minutes:
                            attendance = Attendance.APOLOGIES if response is Response.APOLOGIES \
                                else Attendance.ABSENT if rng.random() < 0.1 \
                                else Attendance.PRESENT
                        registrations.append({
                            "meeting_id": meeting_id, "user_id": user_id, "walk_in_name": "",
                            "walk_in_organisation": "", "organisation_id": None,
                            "response": response, "status": RegistrationStatus.CONFIRMED,
                            "holds_place": takes, "access_requirements": "",
                            "waiting_since": None, "promoted_at": None,
                            "attendance": attendance,
                            "created_at": answered, "updated_at": answered,
                        })
                row["places_taken"] = held
                meetings.append(row)
                if minutes:
                    for k2 in range(rng.randint(1, 2)):
                        decisions.append({
                            "meeting_id": meeting_id, "item_id": item_ids[1 + k2],
                            "text": _sentence(rng), "created_by_id": forum.convenors[0],
                            "created_at": ends_at, "updated_at": ends_at,
                        })
                    minuted.append(meeting_id)
                    for _ in range(rng.randint(0, 2)):
                        status_a = rng.choices(
                            [ActionStatus.DONE, ActionStatus.DROPPED], weights=[9, 1])[0]
                        forum_actions.append((meeting_id, {
                            "meeting_id": meeting_id, "forum_id": forum.id,
                            "item_id": item_ids[1], "description": _sentence(rng),
                            "owner_id": rng.choice(forum.members),
                            "owner_organisation_id": None,
                            "due_date": (to_uk(ends_at) + timedelta(days=30)).date(),
                            "status": status_a, "created_by_id": forum.convenors[0],
                            "created_at": ends_at, "updated_at": ends_at,
                        }))
            # Actions are reported on at the next meetings and done within two: those of
            # the last two minuted meetings are still open ("matters arising").
            for meeting_id, action in forum_actions:
                if meeting_id in minuted[-2:]:
                    action["status"] = ActionStatus.OPEN
                actions.append(action)
        self.count("meetings", _insert(Meeting, meetings))
        self.count("agenda items", _insert(AgendaItem, items))
        self.count("registrations", _insert(Registration, registrations))
        _insert(Decision, decisions)
        self.count("actions", _insert(ActionItem, actions))

    # Opportunities and MoUs -------------------------------------------------------------------

    def _partnership_for(self, k: int, total: int, share: float = MAIN_SHARE) -> int:
        """The partnership of the ``k``th of ``total`` things: ``share`` to the first."""
        if len(self.partnership_ids) == 1 or k < round(total * share):
            return 1
        return self.partnership_ids[1 + k % (len(self.partnership_ids) - 1)]

    def opportunities(self) -> None:
        rng, s = self.rng, self.sizes
        rows = []
        today = to_uk(self.now).date()
        kinds = list(OpportunityKind)
        for k in range(s.opportunities):
            p = self._partnership_for(k, s.opportunities)
            host = rng.choice(self.members_of[p])
            kind = kinds[k % len(kinds)]
            status = rng.choices(list(OpportunityStatus), weights=[10, 60, 20, 10])[0]
            total_days = rng.randint(1, 5) if kind is OpportunityKind.SHADOWING else \
                rng.choice([None, 20, 40, 60, 120])
            approval = not (kind is OpportunityKind.SHADOWING and total_days is not None
                            and total_days <= NO_APPROVAL_MAX_DAYS and rng.random() < 0.5)
            created = self.ago(rng.uniform(10, 400))
            if status is OpportunityStatus.OPEN:
                closing = today + timedelta(days=rng.randint(0, 60))
            elif status is OpportunityStatus.CLOSED:
                closing = today - timedelta(days=rng.randint(1, 300))
            else:
                closing = today + timedelta(days=rng.randint(-100, 60))
            starts = closing + timedelta(days=30)
            published = created + timedelta(days=1) \
                if status is not OpportunityStatus.DRAFT else None
            rows.append({
                "organisation_id": host.id, "posted_by_id": host.admin_id, "partnership_id": p,
                "kind": kind, "title": f"{kind.label} with {host.name}"[:200],
                "description": _markdown(rng, 3), "skills_sought": _paragraph(rng, 1),
                "host_team": "Community team",
                "location_kind": rng.choice(list(LocationKind)),
                "place": self.places[p - 1],
                "time_commitment": "2 days a week", "total_days": total_days,
                "duration": "3 months", "starts_earliest": starts,
                "starts_latest": starts + timedelta(days=30),
                "places": rng.randint(1, 3), "places_taken": 0,
                "open_to": rng.choice(list(OpenTo)), "seniority": "",
                "pay_and_backfill": "Your employer keeps paying you.",
                "closing_date": closing, "contact_name": self.user_names[host.admin_id],
                "contact_email": f"user{host.admin_id:05d}@scale.example.org",
                "status": status, "manager_approval_required": approval,
                "published_at": published,
                "withdrawn_reason": "The team has been reorganised."
                if status is OpportunityStatus.WITHDRAWN else "",
                "created_at": created, "updated_at": published or created,
            })
        self.count("opportunities", _insert(Opportunity, rows))

    def mous(self) -> None:
        rng, s = self.rng, self.sizes
        mous, versions, parties, clauses, responsible, signatures = [], [], [], [], [], []
        principles, forum_links = [], []
        pointers: list[dict[str, Any]] = []
        numbers: dict[int, int] = {}
        today = to_uk(self.now).date()
        for k in range(s.mous):
            p = self._partnership_for(k, s.mous, MOU_SHARE)
            candidates = self.members_of[p]
            if len(candidates) < 2:
                continue
            mou_id = self.ids.take("mous")
            numbers[p] = numbers.get(p, 0) + 1
            status = rng.choices(
                [MouStatus.ACTIVE, MouStatus.SIGNING, MouStatus.COMMENTS, MouStatus.DRAFT,
                 MouStatus.ENDED], weights=[60, 10, 5, 10, 15])[0]
            officer = self.officers[p][0]
            created = self.ago(rng.uniform(60, 1500))
            start = to_uk(created).date() + timedelta(days=30)
            review = start + timedelta(days=365 * rng.choice([1, 2]))
            in_force = status in (MouStatus.ACTIVE, MouStatus.ENDED)
            signed_at = created + timedelta(days=25) if in_force else None
            version_status = {MouStatus.ACTIVE: VersionStatus.SIGNED,
                              MouStatus.ENDED: VersionStatus.SIGNED,
                              MouStatus.SIGNING: VersionStatus.SIGNING,
                              MouStatus.COMMENTS: VersionStatus.COMMENTS,
                              MouStatus.DRAFT: VersionStatus.DRAFT}[status]
            version_id = self.ids.take("mou_versions")
            title = f"Working together on {rng.choice(_TOPICS)}"
            versions.append({
                "id": version_id, "mou_id": mou_id, "number": 1, "title": title,
                "purpose": _markdown(rng, 2), "start_date": start, "review_date": review,
                "end_date": None, "data_sharing": rng.random() < 0.3,
                "data_sharing_note": "", "changelog": "", "status": version_status,
                "opened_for_signature_at": created + timedelta(days=20)
                if version_status in (VersionStatus.SIGNING, VersionStatus.SIGNED) else None,
                "signed_at": signed_at, "based_on_version_id": None,
                "created_by_id": officer, "created_at": created,
                "updated_at": signed_at or created,
            })
            chosen = rng.sample(candidates, min(len(candidates), rng.randint(2, 4)))
            for position, org in enumerate(chosen):
                parties.append({
                    "version_id": version_id, "organisation_id": org.id,
                    "role": rng.choice(["Lead partner", "Delivery partner", "Funder",
                                        "Referral partner"]),
                    "position": position, "nominated_signatory_id": None,
                    "created_at": created, "updated_at": created,
                })
                signs = in_force or (version_status is VersionStatus.SIGNING
                                     and position < len(chosen) - 1 and rng.random() < 0.5)
                if signs:
                    signatures.append({
                        "version_id": version_id, "organisation_id": org.id,
                        "signer_id": org.admin_id, "signer_name": self.user_names[org.admin_id],
                        "signer_role": "Chief Executive",
                        "statement": statement_for(Organisation(name=org.name)),
                        "signed_at": signed_at or created + timedelta(days=22),
                        "declined": False, "decline_reason": "", "declined_at": None,
                        "created_at": signed_at or created + timedelta(days=22),
                    })
            for number in range(1, rng.randint(3, 6) + 1):
                clause_id = self.ids.take("mou_clauses")
                clauses.append({
                    "id": clause_id, "version_id": version_id, "number": number,
                    "text": _paragraph(rng, 1), "created_at": created, "updated_at": created,
                })
                responsible.append({"clause_id": clause_id,
                                    "organisation_id": rng.choice(chosen).id})
            for principle in rng.sample(list(Principle), rng.randint(1, 2)):
                principles.append({"mou_id": mou_id, "principle": principle})
            if rng.random() < 0.5:
                forum_links.append({"mou_id": mou_id,
                                    "forum_id": rng.choice(self.forums_of[p]).id})
            publish = not (in_force and rng.random() < 0.1)
            ended = status is MouStatus.ENDED
            end_day = min(today, review) if ended else None
            mous.append({
                "id": mou_id, "partnership_id": p, "number": numbers[p], "status": status,
                "current_version_id": None, "draft_version_id": None, "publish": publish,
                "not_published_reason": "" if publish else "It names a service still being "
                "procured.",
                "review_date": review if in_force else None,
                "end_date": end_day,
                "end_kind": EndKind.EXPIRED if ended else None,
                "ended_reason": "The programme has finished." if ended else "",
                "ended_at": min(self.now, uk_local_to_utc(end_day, time(12)))
                if end_day else None,
                "created_by_id": officer, "created_at": created,
                "updated_at": signed_at or created,
            })
            pointers.append({"id": mou_id,
                             "current_version_id": version_id if in_force else None,
                             "draft_version_id": None if in_force else version_id})
        self.count("mous", _insert(Mou, mous))
        _insert(MouVersion, versions)
        _insert(MouParty, parties)
        _insert(MouClause, clauses)
        _insert(mou_clause_parties, responsible)
        _insert(MouSignature, signatures)
        _insert(MouPrinciple, principles)
        _insert(MouForumLink, forum_links)
        # The versions exist now: point each MoU at its own (by primary key, in bulk).
        for batch in _batches(pointers):
            db.session.execute(update(Mou), batch)


def _reset_sequences() -> None:
    """PostgreSQL: the rows above were given their ids, so move each id sequence on:
    to the largest id, as used (so the next is one more), or to 1, unused, for an
    empty table. (Set to the next id as unused instead, a sequence looks never read
    in ``pg_sequences``, and the test suite, which puts back only sequences that
    were read, left the next test's ids starting there.)"""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if [column.name for column in table.primary_key.columns] == ["id"]:
            top = f"COALESCE((SELECT MAX(id) FROM {table.name}), 0)"
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"GREATEST({top}, 1), {top} > 0)"))


def build(fraction: float = 1.0, seed: int = SEED) -> dict[str, int]:
    """Write the data set into the (empty, migrated) database; return what it holds.
    Flushes; the caller commits."""
    if not 0 < fraction <= 10:
        raise ValueError("fraction must be above 0 and at most 10")
    builder = _Builder(fraction, seed)
    builder.partnerships_and_people()
    builder.forums()
    builder.discussions()
    builder.meetings()
    builder.opportunities()
    builder.mous()
    _reset_sequences()
    db.session.flush()
    return builder.counts


# --- Landmarks: what the benchmarks open ---------------------------------------------------


@dataclass(frozen=True)
class Landmarks:
    partnership_slug: str
    partnership_id: int
    forum_slug: str
    big_thread_id: int
    meeting_id: int  # the main forum's latest meeting with published minutes
    person_id: int  # an officer of the main partnership, in each of its forums


def landmarks() -> Landmarks:
    """Find the things the benchmarks open, by what they are (so a cached database
    needs no notes kept beside it)."""
    partnership = db.session.scalars(select(Partnership).order_by(Partnership.id)).first()
    assert partnership is not None, "no partnerships: run flask seed scale first"
    thread = db.session.scalars(
        select(Thread).join(Forum, Forum.id == Thread.forum_id)
        .where(Forum.partnership_id == partnership.id)
        .order_by(Thread.reply_count.desc(), Thread.id)).first()
    assert thread is not None
    forum = db.session.get(Forum, thread.forum_id)
    assert forum is not None
    meeting_id = db.session.scalar(
        select(Meeting.id).where(Meeting.forum_id == forum.id,
                                 Meeting.minutes_status == MinutesStatus.PUBLISHED,
                                 Meeting.visibility == Visibility.PUBLIC)
        .order_by(Meeting.starts_at.desc()).limit(1))
    assert meeting_id is not None
    person_id = db.session.scalar(
        select(PartnershipOfficer.user_id)
        .where(PartnershipOfficer.partnership_id == partnership.id)
        .order_by(PartnershipOfficer.id).limit(1))
    assert person_id is not None
    return Landmarks(partnership.slug, partnership.id, forum.slug, thread.id, meeting_id,
                     person_id)


def row_counts() -> dict[str, int]:
    """Rows per table of interest (for the reports)."""
    models: Sequence[Any] = (User, Organisation, Partnership, Forum, Thread, Post, Meeting,
                             AgendaItem, Registration, Opportunity, Mou)
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            or 0 for model in models}


__all__ = ["FULL", "Landmarks", "Sizes", "build", "landmarks", "row_counts"]
