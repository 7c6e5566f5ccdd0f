"""The one place that answers "may this user do X to Y".

Views, templates (through the ``permissions`` Jinja global), services, feeds, search
and the JSON API all ask these predicates, so a rule changes in one place. Every
predicate accepts an anonymous user (Flask-Login's ``AnonymousUserMixin``) or ``None``
and answers False for them where signing in is needed. Predicates that need data
beyond the objects passed in run one small query; pages that list many objects should
load the facts once in a service query (e.g. ``partnership.services.memberships_in``) or
filter with the rule's SQL form rather than calling a predicate per row.

A module per domain; where a rule must also run in SQL (lists, feeds, emails), its SQL
form sits beside the Python predicate, and tests/test_permissions_agree.py checks that
the two agree for every role and every kind of object:

- ``core``: signed in, site admin, confirmed email address
- ``organisations``: membership and admins
- ``partnership``: partnerships, their officers and their people (those of member
  organisations: ``is_partnership_insider`` / ``partnerships_inside`` /
  ``partnership_insiders``)
- ``forums``: reading, posting, running; members-only content
  (``can_read_forum`` / ``forums_readable_by`` / ``people_who_may_read_forum``)
- ``meetings``: who sees a meeting and what is in it
  (``can_view_meeting`` / ``meetings_visible_to`` / ``people_who_may_see_meeting``)
- ``mous``: drafts, versions, comments, signing
  (``MouAccess.can_view_mou`` / ``mous_visible_to``, ``can_view_version`` /
  ``versions_visible_to``)
- ``opportunities``: secondments, applications and placements
- ``engagement``: who sets a partnership's engagement plan and writes its annual
  reports, and who sees a draft report
- ``concerns``: concerns raised about a partnership, who acts on them, what is public
- ``members_only``: what someone who may not see a hidden thing is told (sign in
  first, or a 403 naming the public forum or partnership it belongs to), ``refuse``

Callers use ``from partnerships import permissions`` and ``permissions.<name>``; every
public name of the modules is re-exported here.
"""

from .concerns import (
    can_manage_concerns,
    can_raise_concern,
    can_view_concern,
    concern_is_published,
    concerns_published,
    is_concern_raiser,
)
from .core import Viewer, can_view_admin, has_confirmed_email, is_site_admin, signed_in
from .engagement import (
    annual_reports_visible_to,
    can_edit_engagement_plan,
    can_view_annual_report,
    can_write_annual_report,
)
from .forums import (
    POST_EDIT_WINDOW_MINUTES,
    ForumAccess,
    can_create_forum,
    can_create_forum_among,
    can_delete_post,
    can_edit_post,
    can_manage_forum,
    can_post_in_forum,
    can_read_forum,
    forget_forum_access,
    forum_access,
    forum_insiders,
    forums_readable_by,
    insider_of,
    people_who_may_read_forum,
    person_may_read_forum,
)
from .meetings import (
    can_ask_for_item,
    can_download_paper,
    can_manage_meeting,
    can_register_for_meeting,
    can_request_agenda_item,
    can_schedule_meeting,
    can_see_joining_link,
    can_update_action,
    can_view_action,
    can_view_attendance_list,
    can_view_draft_agenda,
    can_view_draft_minutes,
    can_view_meeting,
    joining_links_for,
    meeting_insider_of,
    meetings_visible_to,
    must_confirm_email_to_register,
    people_who_may_see_meeting,
    person_may_see_meeting,
)
from .members_only import (
    Audience,
    Joining,
    MembersOnly,
    SignInFirst,
    forum_audience,
    mou_audience,
    partnership_audience,
    refuse,
)
from .mous import (
    MouAccess,
    can_comment,
    can_draft_mou,
    can_sign,
    can_view_mou,
    can_view_version,
    is_authorised_signatory,
    mou_access,
    mous_visible_to,
    versions_visible_to,
)
from .opportunities import (
    can_decide_application,
    can_manage_opportunity,
    can_manage_opportunity_posters,
    can_post_opportunity,
    can_view_application,
    can_view_opportunity,
    can_view_placement,
    is_applicant,
)
from .organisations import (
    admin_organisations,
    can_ask_to_join_organisation,
    can_create_organisation,
    can_edit_organisation,
    can_manage_organisation_members,
    can_see_organisation_members,
    can_set_organisation_email_domains,
    is_admin_of,
    is_organisation_admin,
    is_organisation_member,
    organisation_membership,
)
from .partnership import (
    PartnershipAccess,
    can_appoint_officers,
    can_create_partnership,
    can_manage_partnership,
    can_request_partnership_membership,
    can_see_partnership_requests,
    is_partnership_insider,
    is_partnership_officer,
    member_organisations,
    partnership_access,
    partnership_insiders,
    partnership_people,
    partnerships_inside,
    partnerships_run_by,
)

__all__ = [
    "POST_EDIT_WINDOW_MINUTES",
    "Audience",
    "ForumAccess",
    "Joining",
    "MembersOnly",
    "MouAccess",
    "PartnershipAccess",
    "SignInFirst",
    "Viewer",
    "admin_organisations",
    "annual_reports_visible_to",
    "can_appoint_officers",
    "can_ask_for_item",
    "can_ask_to_join_organisation",
    "can_comment",
    "can_create_forum",
    "can_create_forum_among",
    "can_create_organisation",
    "can_create_partnership",
    "can_decide_application",
    "can_delete_post",
    "can_download_paper",
    "can_draft_mou",
    "can_edit_engagement_plan",
    "can_edit_organisation",
    "can_edit_post",
    "can_manage_concerns",
    "can_manage_forum",
    "can_manage_meeting",
    "can_manage_opportunity",
    "can_manage_opportunity_posters",
    "can_manage_organisation_members",
    "can_manage_partnership",
    "can_post_in_forum",
    "can_post_opportunity",
    "can_raise_concern",
    "can_read_forum",
    "can_register_for_meeting",
    "can_request_agenda_item",
    "can_request_partnership_membership",
    "can_schedule_meeting",
    "can_see_joining_link",
    "can_see_organisation_members",
    "can_see_partnership_requests",
    "can_set_organisation_email_domains",
    "can_sign",
    "can_update_action",
    "can_view_action",
    "can_view_admin",
    "can_view_annual_report",
    "can_view_application",
    "can_view_attendance_list",
    "can_view_concern",
    "can_view_draft_agenda",
    "can_view_draft_minutes",
    "can_view_meeting",
    "can_view_mou",
    "can_view_opportunity",
    "can_view_placement",
    "can_view_version",
    "can_write_annual_report",
    "concern_is_published",
    "concerns_published",
    "forget_forum_access",
    "forum_access",
    "forum_audience",
    "forum_insiders",
    "forums_readable_by",
    "has_confirmed_email",
    "insider_of",
    "is_admin_of",
    "is_applicant",
    "is_authorised_signatory",
    "is_concern_raiser",
    "is_organisation_admin",
    "is_organisation_member",
    "is_partnership_insider",
    "is_partnership_officer",
    "is_site_admin",
    "joining_links_for",
    "meeting_insider_of",
    "meetings_visible_to",
    "member_organisations",
    "mou_access",
    "mou_audience",
    "mous_visible_to",
    "must_confirm_email_to_register",
    "organisation_membership",
    "partnership_access",
    "partnership_audience",
    "partnership_insiders",
    "partnership_people",
    "partnerships_inside",
    "partnerships_run_by",
    "people_who_may_read_forum",
    "people_who_may_see_meeting",
    "person_may_read_forum",
    "person_may_see_meeting",
    "refuse",
    "signed_in",
    "versions_visible_to",
]
