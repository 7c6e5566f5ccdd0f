"""Discussion forms: start a thread, reply, edit a post, hide a post.

The forms check presence and length so every problem shows at once; the services in
``discussions.py`` check again (they hold the rule) and name the field that is wrong.
Lengths are counted the way the page's character count does: a line break is one
character, although browsers send it as two.
"""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired
from wtforms.validators import ValidationError as WTFValidationError

from ..forms import BaseForm, CharacterCount, submit
from ..once import OnceField
from .models import BODY_MAX, HIDDEN_REASON_MAX, TITLE_MAX


def _one_line_breaks(value: Any) -> Any:
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class _AtMost:
    """Length check whose message names the limit and how far over it the text is."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what

    def __call__(self, form: BaseForm, field: Any) -> None:
        length = len(field.data or "")
        if length > self.limit:
            raise WTFValidationError(
                f"{self.what} must be {self.limit:,} characters or fewer (it has {length:,})"
            )


def _body_field(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        widget=CharacterCount(),
        filters=[_one_line_breaks],
        validators=[InputRequired("Enter your message"), _AtMost(BODY_MAX, "Your message")],
    )


class ThreadForm(BaseForm):
    """Start a discussion: a title and the first message."""

    title = StringField(
        "Title",
        description="A short summary, for example: Winter food bank rota",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a title for the discussion"),
                    _AtMost(TITLE_MAX, "Title")],
    )
    body = _body_field("Your message")
    once = OnceField()  # sent twice (two tabs, a second tap), it starts one discussion
    submit = submit("Start discussion")


class ReplyForm(BaseForm):
    """Reply at the end of a thread."""

    body = _body_field("Your reply")
    submit = submit("Post reply")


class EditPostForm(BaseForm):
    """Change one's own post within the editing window."""

    body = _body_field("Your message")
    submit = submit("Save changes")


class HidePostForm(BaseForm):
    """Hide a post, with a reason the author will see."""

    reason = TextAreaField(
        "Why are you hiding this post?",
        description="The author will see this reason. Other people will only see that a "
                    "convenor hid the post.",
        widget=CharacterCount(),
        filters=[_one_line_breaks],
        validators=[InputRequired("Enter a reason for hiding the post. The author will see it."),
                    _AtMost(HIDDEN_REASON_MAX, "Reason")],
    )
    submit = submit("Hide post")
