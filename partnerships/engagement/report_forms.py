"""The annual report form: the officers' narrative (Markdown, like other long texts)."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import DataRequired

from ..forms import BaseForm, CharacterCount, MaxLength, submit
from ..once import OnceField
from .models import INTRODUCTION_MAX, SECTION_MAX
from .reports import ReportText

MARKDOWN_HINT = ("You can use Markdown: a blank line starts a new paragraph, a line "
                 "starting with a dash is a bullet point.")


class ReportForm(BaseForm):
    once = OnceField()
    introduction = TextAreaField(
        "Introduction (optional)",
        description="A few words to open the report: the year in brief. " + MARKDOWN_HINT,
        widget=CharacterCount(), validators=[MaxLength(INTRODUCTION_MAX, "The introduction")])
    went_well = TextAreaField(
        "What went well",
        description="What the partnership did well this year, against its engagement plan "
                    "and beyond it. " + MARKDOWN_HINT,
        widget=CharacterCount(),
        validators=[DataRequired("Enter what went well"),
                    MaxLength(SECTION_MAX, "What went well")])
    will_change = TextAreaField(
        "What we will change",
        description="What the partnership will do differently next year, for the "
                    "commitments it missed and the concerns people raised. " + MARKDOWN_HINT,
        widget=CharacterCount(),
        validators=[DataRequired("Enter what you will change"),
                    MaxLength(SECTION_MAX, "What we will change")])
    submit = submit("Save the report")

    def text(self) -> ReportText:
        return ReportText(introduction=self.introduction.data or "",
                          went_well=self.went_well.data or "",
                          will_change=self.will_change.data or "")
