"""Form building blocks shared by every domain: GOV.UK widgets and plain-English messages."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from datetime import date, time
from typing import TYPE_CHECKING, Any, ClassVar

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from markupsafe import Markup
from wtforms import (
    DateField,
    Field,
    Form,
    FormField,
    PasswordField,
    SearchField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.form import BaseForm as WTFBaseForm
from wtforms.meta import DefaultMeta

if TYPE_CHECKING:
    from _typeshed import SupportsItems
from wtforms.validators import InputRequired, Optional, StopValidation
from wtforms.validators import ValidationError as WTFValidationError

from . import textguard
from .bounds import INT_MAX, is_whole_number, whole_number


class BaseForm(FlaskForm):
    """A Flask-WTF form (CSRF included) that strips surrounding spaces from text and
    refuses control characters: single-line text fields (names, titles, subjects, email
    addresses, searches ...) refuse line breaks too; text areas keep them. Every form of
    the app inherits this, so no form has to remember either."""

    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            return _bind_field(form, unbound_field, options)

    # Fields that apply only for some answers to a choice: field name -> (the radios'
    # name, the values it applies for). With JavaScript on the page hides them until
    # they apply (``conditional`` in macros/forms.html); the server never checks them
    # when they do not apply, and empties them before the form is used.
    depends_on: ClassVar[dict[str, tuple[str, frozenset[str]]]] = {}
    # The order the fields appear on the page, when it is not the order they are
    # declared in (a subclass's fields come last): names listed here come first, in
    # this order. The error summary follows it.
    page_order: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.page_order:
            rank = {name: index for index, name in enumerate(self.page_order)}
            ordered = sorted(self._fields.items(),
                             key=lambda item: rank.get(item[0], len(rank)))
            self._fields = OrderedDict(ordered)

    def validate(self, extra_validators: Any = None) -> bool:
        """Every field's checks, then every check across fields (``check``), whatever
        the fields' own results, so one submit shows every problem at once. Fields
        that do not apply (``depends_on``) are not checked; once the form is valid
        they are emptied, so nothing hidden is saved. Forms add rules in ``check``,
        never by overriding this (tests/test_all_errors.py holds every form to it)."""
        super().validate(extra_validators)
        self.check()
        ignored = [name for name in self.depends_on if not self.applies(name)]
        for name in ignored:
            self._fields[name].errors = []
        if self.errors:
            return False
        for name in ignored:
            field = self._fields[name]
            field.data = [] if isinstance(field.data, list) else None
        return True

    def check(self) -> None:
        """Checks across fields (dates in order, fields a choice needs), run on every
        submit after the fields' own checks. Add problems with ``add_error``; skip a
        check whose fields are themselves wrong (their values are then None)."""

    def applies(self, name: str) -> bool:
        """Whether field ``name`` applies, given the choice it depends on (if any)."""
        if name not in self.depends_on:
            return name in self._fields
        choice, values = self.depends_on[name]
        return self._fields[choice].data in values and self.applies(choice)

    def add_error(self, field_name: str | None, message: str) -> None:
        """Attach a service's error to a field (or to the first field) for the summary."""
        field = getattr(self, field_name, None) if field_name else None
        if field is None:
            field = next(iter(self._fields.values()))
        add_field_error(field, message)


class FilterForm(BaseForm):
    """A form sent by GET to filter a list: no CSRF token, nothing secret in it.

    Its fields' HTML depends only on the field (its name, label, choices, the value
    asked for and any errors) and on the page's params, and GOV.UK's macros cost about
    30 µs an option: a register filtered by party renders hundreds of options on every
    view. So each field's HTML is made once per process for each such combination and
    kept in ``RENDERED_FIELDS`` (least recently used go first)."""

    class Meta(DefaultMeta):
        csrf = False

        def render_field(self, field: Field, render_kw: SupportsItems[str, Any]) -> Markup:
            key = _render_key(field, render_kw)
            html = RENDERED_FIELDS.get(key)
            if html is None:
                html = super().render_field(field, render_kw)
                RENDERED_FIELDS.put(key, html)
            return html


def _render_key(field: Any, render_kw: SupportsItems[str, Any]) -> str:
    """Everything a filter field's HTML depends on, as one string."""
    return repr((type(field).__name__, type(field.widget).__name__, field.name, field.id,
                 str(field.label.text), str(field.description), field.data,
                 # what was sent, too: a checkbox shows it back (``small=Y`` and
                 # ``small=y`` are both ticked, with their own value attributes)
                 tuple(field.raw_data or ()),
                 _choices_key(getattr(field, "choices", None)), tuple(field.errors),
                 sorted(render_kw.items()), sorted((field.render_kw or {}).items())))


def _choices_key(choices: Any) -> Any:
    """A field's choices as plain tuples: a dataclass's ``repr`` (WTForms'
    ``SelectChoice``) runs Python per choice, a tuple's runs in C, and a register's
    party filter has hundreds of choices."""
    if not isinstance(choices, list | tuple):
        return choices
    return tuple((type(c).__name__, c.value, c.label, c.render_kw, c.optgroup)
                 if isinstance(c, SelectChoice) else c for c in choices)


class _RenderedFields:
    """A small LRU of rendered filter fields (``FilterForm``)."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[str, Markup] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Markup | None:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def put(self, key: str, html: Markup) -> None:
        with self._lock:
            self._items[key] = html
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


RENDERED_FIELDS = _RenderedFields()


def add_field_error(field: Field, message: str) -> None:
    """Add an error to a field after validation. WTForms types ``errors`` as a sequence
    and leaves a tuple on fields that passed; ``form.errors`` caches the same list
    objects, so a list is extended in place and only a tuple is replaced."""
    if isinstance(field.errors, list):
        field.errors.append(message)
    else:
        field.errors = [*field.errors, message]


_TEXT_FIELDS = {"StringField", "EmailField", "TextAreaField", "URLField", "SearchField"}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _one_line(value: object) -> object:
    return textguard.one_line(value) if isinstance(value, str) else value


def _bind_field(form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
    if unbound_field.field_class.__name__ in _TEXT_FIELDS:
        filters = list(unbound_field.kwargs.get("filters", []))
        if issubclass(unbound_field.field_class, SearchField):
            # A search is never stored or sent, and list pages read it without
            # validating: make any control character a space rather than refuse it.
            filters.append(_one_line)
        options = {**options, "filters": [*filters, _strip]}
    field = unbound_field.bind(form=form, **options)
    if isinstance(field, TextAreaField):
        field.validators = [NoControlCharacters(), *field.validators]
    elif isinstance(field, StringField) and not isinstance(field, PasswordField):
        # Every single-line text box, including subclasses (EmailField, SearchField,
        # WholeNumberField, UKTimeField, HiddenField ...). Passwords are only ever hashed,
        # and refusing characters a password was once accepted with would lock people out.
        field.validators = [SingleLine(), *field.validators]
    elif isinstance(field, FormField):
        # A plain wtforms subform (FieldList(FormField(Entry))) gets the same rules.
        field.form_class = _guarded_subform(field.form_class)
    return field


class _SubformMeta:
    def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
        return _bind_field(form, unbound_field, options)


_GUARDED: dict[type, type] = {}


def _guarded_subform(form_class: type[Form]) -> type[Form]:
    """``form_class`` with the guarded ``Meta`` (one subclass per class, made once)."""
    if issubclass(form_class, BaseForm) or issubclass(form_class.Meta, _SubformMeta):
        return form_class
    if form_class not in _GUARDED:
        _GUARDED[form_class] = type(form_class.__name__, (form_class,),
                                    {"Meta": _SubformMeta, "__module__": form_class.__module__})
    return _GUARDED[form_class]


def _field_name(field: Any) -> str:
    """What to call a field in a message: the name its length check uses ("Full name"),
    otherwise its label without "(optional)"."""
    for validator in field.validators:
        what = getattr(validator, "what", None)
        if isinstance(what, str) and what and hasattr(validator, "limit"):
            return what[0].upper() + what[1:]
    text: str = field.label.text.split(" (")[0].strip() or field.short_name.replace("_", " ")
    return text[0].upper() + text[1:]


class SingleLine:
    """Refuses control characters, line breaks and bidi controls in a one-line field
    (added to every single-line text field by ``BaseForm``)."""

    def __call__(self, form: Form, field: Any) -> None:
        if isinstance(field.data, str) and not textguard.is_single_line(field.data):
            raise StopValidation(textguard.single_line_message(_field_name(field)))


class NoControlCharacters:
    """Refuses control characters other than line breaks and tabs in a text area (added
    to every text area by ``BaseForm``)."""

    def __call__(self, form: Form, field: Any) -> None:
        if isinstance(field.data, str) and not textguard.is_clean_multi_line(field.data):
            raise StopValidation(textguard.multi_line_message(_field_name(field)))


def submit(label: str) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput())


class MaxLength:
    """Length check with a GOV.UK-style message naming the limit."""

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what

    def __call__(self, form: FlaskForm, field: object) -> None:
        data = getattr(field, "data", None) or ""
        if len(data) > self.limit:
            raise WTFValidationError(f"{self.what} must be {self.limit} characters or fewer")


class ButtonForm(BaseForm):
    """A button-only form (approve, remove, publish, accept ...): CSRF and nothing else.
    Templates set the button's words; one class serves every such button."""

    submit = submit("Continue")


class ReasonForm(BaseForm):
    """What ``reason_form`` builds: one reason box and a button (typed here, so views
    can read ``form.reason``)."""

    reason: TextAreaField
    submit: SubmitField


def reason_form(*, label: str, description: str, button: str, limit: int,
                required: str | None = None, what: str = "The reason",
                button_name: str = "submit", widget: Any = None,
                name: str = "ReasonForm") -> type[ReasonForm]:
    """A form with one reason box and a button, for declining, cancelling or removing
    with a reason. Each use states only its words, its limit (the column's, from the
    model) and whether the form itself requires a reason (``required`` is the message)
    or leaves that to the service; ``what`` names the box in the length message.
    ``button_name`` renames the button where the form shares a page with another whose
    button is ``submit`` (two fields must not share an id); ``widget`` replaces the plain
    GOV.UK text area (for example with a character count)."""
    validators: list[Any] = [MaxLength(limit, what)]
    if required is not None:
        validators.insert(0, InputRequired(required))
    fields: dict[str, Any] = {
        "reason": TextAreaField(label, description=description,
                                widget=widget or GovTextArea(), validators=validators),
        button_name: submit(button),
    }
    if button_name != "submit":
        fields["submit"] = None  # the declared field is not there
    return type(name, (ReasonForm,), fields)


class _NoEmptyHint:
    """govuk-frontend-wtf gives radios and checkboxes a hint even when the field has no
    description, which renders an empty hint that screen readers announce. Drop it."""

    def map_gov_params(self, field, **kwargs):  # type: ignore[no-untyped-def]
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        hint = params.get("hint")
        if isinstance(hint, dict) and not (hint.get("text") or hint.get("html")):
            params.pop("hint")
        return params


class CharacterCount(GovCharacterCount):
    """GOV.UK's character count, its limit written as people read numbers: the macro
    puts the bare number into "You can enter up to 10000 characters" (the description
    read with the box, and shown without JavaScript), while the live count says
    "You have 10,000 characters remaining". Every counted box uses this widget."""

    def map_gov_params(self, field, **kwargs):  # type: ignore[no-untyped-def]
        params = super().map_gov_params(field, **kwargs)
        limit = params.get("maxlength")
        if isinstance(limit, int) and "textareaDescriptionText" not in params:
            params["textareaDescriptionText"] = f"You can enter up to {limit:,} characters"
        return params


class Radios(_NoEmptyHint, GovRadioInput):
    """GOV.UK radios without an empty hint."""


class Checkboxes(_NoEmptyHint, GovCheckboxesInput):
    """GOV.UK checkboxes without an empty hint."""


class Checkbox(_NoEmptyHint, GovCheckboxInput):
    """A single GOV.UK checkbox (BooleanField) without an empty hint."""


class UKDateField(DateField):
    """Day, month and year boxes (GOV.UK date input) with plain-English errors.

    ``what`` names the date in messages ("Enter the closing date"); ``error_name``, if
    given, starts the format errors ("Closing date must be a real date"), otherwise
    ``what`` with a capital letter does.
    """

    def __init__(self, label: str, what: str, required: bool = True,
                 error_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("widget", GovDateInput())
        validators = list(kwargs.pop("validators", []))
        if required:
            validators.insert(0, _DateRequired(f"Enter {what}"))
        super().__init__(label, validators=validators, format="%d %m %Y", **kwargs)
        self.what = what
        self.error_name = error_name or what[0].upper() + what[1:]

    def process_formdata(self, valuelist: list[str]) -> None:
        # The widget needs exactly three boxes back, even if a client sent none.
        self.raw_data = [*valuelist[:3], *[""] * (3 - len(valuelist[:3]))]
        parts = [value.strip() for value in valuelist[:3]]
        if not any(parts):
            self.data = None
            return
        name = self.error_name
        if len(parts) != 3 or not all(parts):
            self.data = None
            raise ValueError(f"{name} must include a day, month and year")
        try:
            day, month, year = (int(part) for part in parts)
            if not 1900 <= year <= 2200:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            self.data = None
            raise ValueError(f"{name} must be a real date, like 27 3 2027") from None


class _DateRequired:
    def __init__(self, message: str) -> None:
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form: Form, field: UKDateField) -> None:
        if field.process_errors:
            raise StopValidation()
        if field.data is None:
            raise StopValidation(self.message)


class WholeNumberField(StringField):
    """A whole number typed into a text box (GOV.UK asks for inputmode, not
    type=number), keeping what was typed when it is not a number.

    Every such field has bounds, ``minimum`` to ``maximum``: the limit beside the model
    column it fills (``CAPACITY_MAX``, ``MINUTES_MAX`` ...), never past what the
    database's INTEGER holds. Only ASCII digits count as a number ("²" and "٣" do not);
    a number outside the bounds gets ``range_message`` (by default "Capacity must be
    between 1 and 10,000")."""

    def __init__(self, label: str, what: str, *, minimum: int, maximum: int,
                 range_message: str | None = None, required: bool = True,
                 **kwargs: Any) -> None:
        if not 0 <= minimum <= maximum <= INT_MAX:
            raise ValueError(f"{label}: bounds must be within 0 to {INT_MAX}")
        kwargs.setdefault("widget", GovTextInput())
        validators = list(kwargs.pop("validators", []))
        validators.insert(0, InputRequired(f"Enter {what}") if required else Optional())
        super().__init__(label, validators=validators, **kwargs)
        self.what = what
        self.minimum = minimum
        self.maximum = maximum
        self.range_message = range_message or (
            f"{self._name()} must be between {minimum:,} and {maximum:,}")

    def _name(self) -> str:
        return self.label.text.split(" (")[0]

    def process_data(self, value: Any) -> None:
        """A form filled from a model (``obj=``) gets its number as text, as typed."""
        self.data = str(value) if isinstance(value, int) else value

    def number(self) -> int | None:
        """The number typed, if it is one within the bounds; otherwise None."""
        return whole_number(self.data, self.minimum, self.maximum)

    def post_validate(self, form: WTFBaseForm, validation_stopped: bool) -> None:
        value = (self.data or "").strip()
        if not value or validation_stopped:
            return
        if not is_whole_number(value):
            add_field_error(self, f"{self._name()} must be a whole number, like 3")
        elif self.number() is None:
            add_field_error(self, self.range_message)


_TIME_RE = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$")


def parse_time(text: str) -> time | None:
    """'10:00', '14:30', '2pm', '2.30pm', 'midday' -> a time; None if not a time."""
    value = text.strip().lower().replace(" ", "")
    if value in ("midday", "noon", "12noon"):
        return time(12, 0)
    match = _TIME_RE.match(value)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif match.group(2) is None:
        return None  # a bare "10" could be morning or evening: ask for 10:00 or 10am
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


class UKTimeField(StringField):
    """A UK wall-clock time typed as people write it ('10:00', '2:30pm')."""

    def __init__(self, label: str, what: str, required: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("widget", GovTextInput())
        kwargs.setdefault("description", "For example, 10:00 or 2:30pm")
        validators = list(kwargs.pop("validators", []))
        validators.insert(0, InputRequired(f"Enter {what}") if required else Optional())
        super().__init__(label, validators=validators, **kwargs)
        self.what = what

    def time(self) -> time | None:
        return parse_time(self.data or "")

    def post_validate(self, form: WTFBaseForm, validation_stopped: bool) -> None:
        value = (self.data or "").strip()
        if value and not validation_stopped and parse_time(value) is None:
            name = self.label.text.split(" (")[0]
            add_field_error(self, f"{name} must be a time, like 10:00 or 2:30pm")
