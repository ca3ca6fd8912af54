"""Staff forms: a gift, a project, an allocation, an expense with its evidence, a
reversal. Amounts are typed in yuan and checked into fen here (money.parse_yuan)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from stdnum.cn import uscc
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.accounts.phone import InvalidPhone, normalise_phone
from portal.donations.labels import (
    CHANNEL_LABELS,
    DONOR_KIND_LABELS,
    EVIDENCE_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
)
from portal.donations.models import CHANNELS, EVIDENCE_KINDS, GOODS, MONEY, ORGANISATION, PERSON
from portal.donations.money import BadAmount, parse_quantity, parse_yuan
from portal.textcheck import plain_multiline_text, plain_text

LEN = _l("Please type at most %(max)d characters.")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label, max_len, required=None, multiline=False, **kw):
    validators = [DataRequired(required)] if required else [Optional()]
    validators += [
        Length(max=max_len, message=LEN),
        plain_multiline_text if multiline else plain_text,
    ]
    field = TextAreaField if multiline else StringField
    return field(label, filters=[strip], validators=validators, **kw)


class AmountField(StringField):
    """Yuan as typed ("1,234.56"); `fen` holds the checked amount in fen."""

    fen: int | None = None

    def pre_validate(self, form) -> None:
        self.fen = None
        if not (self.data or "").strip():
            return
        try:
            self.fen = parse_yuan(self.data)
        except BadAmount as exc:
            raise ValidationError(str(exc.message)) from None


def _amount_required(form, field):
    if field.fen is None and not field.errors:
        raise ValidationError(_l("Please type the amount."))


class GiftForm(FlaskForm):
    branch = SelectField(_l("Received by branch"), choices=[], coerce=str)
    project = SelectField(_l("Project (restricted gift)"), choices=[], coerce=str)
    kind = RadioField(
        _l("What was given"),
        choices=[(MONEY, KIND_LABELS[MONEY]), (GOODS, KIND_LABELS[GOODS])],
        default=MONEY,
    )
    amount = AmountField(
        _l("Amount in yuan (for goods: their value)"), validators=[_amount_required]
    )
    channel = SelectField(
        _l("Channel"), choices=[("", "—")] + [(c, CHANNEL_LABELS[c]) for c in CHANNELS]
    )
    channel_ref = _text(_l("Channel reference (transaction or voucher number)"), 60)
    goods_description = _text(_l("Goods: what"), 200)
    goods_quantity = _text(_l("Goods: quantity"), 20)
    goods_unit = _text(_l("Goods: unit (箱, 床, 件)"), 10)
    valuation_basis = _text(_l("Goods: how the value was set (invoice, market price)"), 200)
    donor_kind = RadioField(
        _l("Donor"),
        choices=[
            (PERSON, DONOR_KIND_LABELS[PERSON]),
            (ORGANISATION, DONOR_KIND_LABELS[ORGANISATION]),
        ],
        default=PERSON,
    )
    donor_name = _text(
        _l("Donor's name (person or organisation)"),
        100,
        required=_l("Please give the donor's name."),
    )
    donor_phone = _text(_l("Donor's mobile number (kept private; lets them follow the gift)"), 30)
    credit_code = _text(_l("Organisation's unified social credit code"), 30)
    anonymous = BooleanField(_l("The donor asks to be listed as anonymous"))
    received_on = DateField(
        _l("Date received"), validators=[DataRequired(_l("Please give the date."))]
    )
    note = _text(_l("Note"), 200, multiline=True)
    reason = _text(_l("Why the earlier entry is corrected"), 200, multiline=True)

    normalised_phone: str | None = None
    compact_uscc: str | None = None

    def validate_channel(self, field):
        if self.kind.data == MONEY and field.data not in CHANNELS:
            raise ValidationError(_l("Please choose how the money arrived."))

    def validate(self, extra_validators=None) -> bool:
        # Goods fields are optional one by one (Optional() ends their own checks when
        # empty), but all are needed when goods were given: checked here.
        ok = super().validate(extra_validators)
        if self.kind.data != GOODS:
            return ok
        needed = [
            (self.goods_description, _l("Please say what goods were given.")),
            (self.goods_unit, _l("Please give the unit.")),
            (self.valuation_basis, _l("Please say how the value was set.")),
        ]
        for field, message in needed:
            if not field.data and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        if parse_quantity(self.goods_quantity.data) is None and not self.goods_quantity.errors:
            self.goods_quantity.errors = [
                *self.goods_quantity.errors,
                _l("Please type a quantity such as 200 or 1.5."),
            ]
            ok = False
        return ok

    def validate_donor_phone(self, field):
        self.normalised_phone = None
        if field.data and self.donor_kind.data == PERSON:
            try:
                self.normalised_phone = normalise_phone(field.data)
            except InvalidPhone as exc:
                raise ValidationError(str(exc.message)) from None

    def validate_credit_code(self, field):
        self.compact_uscc = None
        if self.donor_kind.data != ORGANISATION:
            return
        if not field.data:
            raise ValidationError(_l("Please give the organisation's credit code."))
        try:
            self.compact_uscc = uscc.validate(field.data)
        except Exception:  # noqa: BLE001 - stdnum raises several kinds of ValidationError
            raise ValidationError(_l("This is not a valid unified social credit code.")) from None


class ProjectForm(FlaskForm):
    code = _text(_l("Project code"), 30, required=_l("Please give a code."))
    branch = SelectField(_l("Owning branch"), choices=[], coerce=str)
    title_zh = _text(_l("Title (Chinese)"), 100, required=_l("Please give a title."))
    title_en = _text(_l("Title (English)"), 100, required=_l("Please give a title."))
    description_zh = _text(_l("Description (Chinese)"), 2000, multiline=True)
    description_en = _text(_l("Description (English)"), 2000, multiline=True)
    starts_on = DateField(_l("Starts on"), validators=[DataRequired(_l("Please give the date."))])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    target = AmountField(_l("Target in yuan"))
    status = SelectField(_l("Status"), choices=list(STATUS_LABELS.items()))


class AllocateForm(FlaskForm):
    amount = AmountField(_l("Amount in yuan"), validators=[_amount_required])
    allocated_on = DateField(_l("Date"), validators=[DataRequired(_l("Please give the date."))])


class ExpenseForm(FlaskForm):
    amount = AmountField(_l("Amount in yuan"), validators=[_amount_required])
    spent_on = DateField(_l("Date spent"), validators=[DataRequired(_l("Please give the date."))])
    purpose = _text(_l("Purpose"), 200, required=_l("Please say what the money paid for."))
    beneficiary = _text(
        _l("Who benefited, as a group (never a person's name): 12 households, 凤县"),
        200,
        required=_l("Please say who benefited."),
    )
    evidence_kind = SelectField(_l("Evidence type"), choices=list(EVIDENCE_LABELS.items()))
    evidence = FileField(_l("Evidence file (photo or PDF, up to 1.9 MB)"))

    def validate_evidence_kind(self, field):
        if field.data not in EVIDENCE_KINDS:
            raise ValidationError(_l("Please choose what the file shows."))


class ReverseForm(FlaskForm):
    reason = _text(_l("Reason"), 200, required=_l("Please write the reason."), multiline=True)


class EvidenceForm(FlaskForm):
    """One more file for an expense recorded already."""

    evidence_kind = SelectField(_l("Evidence type"), choices=list(EVIDENCE_LABELS.items()))
    evidence = FileField(_l("Evidence file (photo or PDF, up to 1.9 MB)"))


class ImportForm(FlaskForm):
    """A finance-system export to check (dry run) or import."""

    branch = SelectField(_l("Received by branch"), choices=[], coerce=str)
    file = FileField(_l("CSV or XLSX file (up to 1.9 MB)"))
