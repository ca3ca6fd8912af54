"""Forms for registering, logging in and managing passwords."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField, TelField
from wtforms.validators import EqualTo, InputRequired, ValidationError

from portal.accounts.password_policy import password_problems
from portal.accounts.phone import InvalidPhone, normalise_phone
from portal.accounts.smscodes import CODE_DIGITS, clean_code


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PhoneMixin:
    """A mobile-number field; after validation `normalised_phone` holds the 11 digits."""

    phone = TelField(_l("Mobile number"), filters=[_strip])
    normalised_phone: str | None = None

    def validate_phone(self, field):
        try:
            self.normalised_phone = normalise_phone(field.data)
        except InvalidPhone as exc:
            raise ValidationError(str(exc.message)) from None


class CodeMixin:
    code = StringField(
        _l("Code from the SMS"),
        validators=[InputRequired(message=_l("Please enter the 6-digit code from the SMS."))],
    )

    def validate_code(self, field):
        cleaned = clean_code(field.data)
        if not (len(cleaned) == CODE_DIGITS and cleaned.isascii() and cleaned.isdigit()):
            raise ValidationError(
                _l("The code has 6 digits. Please check the SMS and type it again.")
            )


class NewPasswordMixin:
    """New password + confirmation. Set `account_phone` before validating so the
    password can be checked against the number."""

    password = PasswordField(
        _l("New password"), validators=[InputRequired(message=_l("Please choose a password."))]
    )
    confirm = PasswordField(
        _l("Type the password again"),
        validators=[
            InputRequired(message=_l("Please type the password a second time.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )
    account_phone: str | None = None

    def validate_password(self, field):
        problems = password_problems(field.data or "", self.account_phone)
        if problems:
            raise ValidationError(" ".join(str(p) for p in problems))


class PhoneForm(PhoneMixin, FlaskForm):
    submit = SubmitField(_l("Send me a code"))


class LoginCodePhoneForm(PhoneForm):
    next = HiddenField()


class LoginForm(PhoneMixin, FlaskForm):
    password = PasswordField(
        _l("Password"), validators=[InputRequired(message=_l("Please enter your password."))]
    )
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class CodeForm(CodeMixin, FlaskForm):
    submit = SubmitField(_l("Log in"))


class RegisterVerifyForm(CodeMixin, NewPasswordMixin, FlaskForm):
    submit = SubmitField(_l("Create my account"))


class ResetVerifyForm(CodeMixin, NewPasswordMixin, FlaskForm):
    submit = SubmitField(_l("Save the new password"))


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(message=_l("Please enter your current password."))],
    )
    submit = SubmitField(_l("Change password"))
