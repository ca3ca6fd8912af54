"""`flask create-admin PHONE`: the first national admin (and, on an empty tree, the
national branch itself)."""

import click
from flask import Flask
from sqlalchemy import select

from portal import audit
from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.branches.forms import normalise_phone
from portal.branches.models import Branch
from portal.branches.roles import bootstrap_national_admin
from portal.branches.services import create_branch
from portal.extensions import db
from portal.timeutil import utcnow

NATIONAL_NAME_ZH = "中国红十字会总会"
NATIONAL_NAME_EN = "Red Cross Society of China"
MIN_PASSWORD, MAX_PASSWORD = 12, 128


def _password(value: str) -> str:
    if not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise click.UsageError(f"The password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    return value


def register(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.argument("phone")
    def create_admin(phone: str) -> None:
        """Make PHONE a national admin (creating the account, and the national branch
        if the tree is empty)."""
        number = normalise_phone(phone)
        if number is None:
            raise click.BadParameter(
                "an 11-digit mainland mobile number, please", param_hint="PHONE"
            )
        user = db.session.scalar(select(User).where(User.phone == number))
        if user is None:
            password = click.prompt(
                "Password", hide_input=True, confirmation_prompt=True, value_proc=_password
            )
            # The operator at the server console vouches for the number.
            user = User(
                phone=number, password_hash=hash_password(password), phone_verified_at=utcnow()
            )
            db.session.add(user)
            db.session.flush()
            audit.record(
                "user_created", object_kind="user", object_id=user.id, changes={"via": "cli"}
            )
            click.echo(f"Created the account {number}.")
        national = db.session.scalar(
            select(Branch).where(Branch.parent_id.is_(None)).order_by(Branch.id)
        )
        if national is None:
            national = create_branch(
                parent=None, level="national", name_zh=NATIONAL_NAME_ZH, name_en=NATIONAL_NAME_EN
            )
            audit.record(
                "branch_created",
                branch_id=national.id,
                object_kind="branch",
                object_id=national.id,
                changes={"via": "cli", "level": "national"},
            )
            click.echo(f"Created the national branch {NATIONAL_NAME_ZH}.")
        if bootstrap_national_admin(user, national) is None:
            click.echo(f"{number} is already a national admin.")
        else:
            click.echo(f"{number} is now a national admin.")
        db.session.commit()
