# ruff: noqa: F811  (the `world` fixture is imported)
"""CSRF on, as in production: a forged marrow form (even one that only answers "yes" to
a health question) and a forged flower are refused and change nothing; the real forms
work."""

import re

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.donors.models import MarrowRegistration
from portal.extensions import db
from tests.conftest import count
from tests.donors_world import marrow_form, world  # noqa: F401


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_forged_marrow_posts_are_refused(world, client, login):
    login(client, world.citizen)
    assert client.post("/marrow/", data=marrow_form(q_blood_infection="yes")).status_code == 400
    assert client.post("/marrow/", data=marrow_form()).status_code in (200, 400)
    assert count(MarrowRegistration) == 0
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "marrow_deferred")) is None
    )
    token = _token(client.get("/marrow/").get_data(as_text=True))
    assert client.post("/marrow/", data={**marrow_form(), "csrf_token": token}).status_code == 302
    assert count(MarrowRegistration) == 1


def test_a_forged_flower_is_refused(world, client, app):
    from portal.donors.models import MemorialDonor

    donor = MemorialDonor(
        branch_id=world.a.id,
        display_name="刘德明",
        kind="organ",
        donated_on=world.a.created_at.date(),
        flowers=0,
    )
    donor.agreement = {"name": "刘小红"}
    db.session.add(donor)
    db.session.commit()
    assert client.post(f"/memorial/{donor.id}/flower").status_code == 400
    token = _token(client.get("/memorial/").get_data(as_text=True))
    assert (
        client.post(f"/memorial/{donor.id}/flower", data={"csrf_token": token}).status_code == 302
    )
    db.session.refresh(donor)
    assert donor.flowers == 1
