# ruff: noqa: F811  (the `world` fixture is imported)
"""The remembrance page: staff add donors with the family's agreement recorded (never
shown), the public sees only names not taken down, flowers are counted and throttled per
visitor; a sibling branch cannot take a name down."""

from datetime import date

from sqlalchemy import select, text

from portal.audit.models import AuditEntry
from portal.donors.models import MemorialDonor
from portal.extensions import db
from tests.conftest import count
from tests.donors_world import world  # noqa: F401

EN = {"Accept-Language": "en"}


def _form(world, **over):
    data = {
        "branch": str(world.a.id),
        "display_name": "刘德明",
        "kind": "organ",
        "donated_on": "2026-05-12",
        "tribute": "他让三个人重获新生。",
        "agreed_by": "刘小红",
        "agreed_relation": "女儿",
        "agreed_on": "2026-06-01",
        "agreement_confirmed": "y",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_add_with_agreement_and_the_public_sees_it(world, client, login, app):
    login(client, world.officer)
    r = client.post(
        "/admin/donors/memorial/", data=_form(world, agreement_confirmed=None), headers=EN
    )
    assert "written agreement" in r.get_data(as_text=True) and count(MemorialDonor) == 0
    assert client.post("/admin/donors/memorial/", data=_form(world)).status_code == 302
    donor = db.session.scalar(select(MemorialDonor))
    assert donor.agreement["name"] == "刘小红" and donor.agreement["on"] == "2026-06-01"
    raw = db.session.execute(text("SELECT agreement_enc FROM memorial_donors")).scalar()
    assert "刘小红".encode() not in raw
    assert (
        db.session.scalar(
            select(AuditEntry.action).where(AuditEntry.action == "memorial_donor_added")
        )
        is not None
    )

    public = app.test_client()
    html = public.get("/memorial/", headers=EN).get_data(as_text=True)
    assert "刘德明" in html and "他让三个人重获新生" in html and "刘小红" not in html
    assert "0 flowers" in html
    public.post(f"/memorial/{donor.id}/flower")
    public.post(f"/memorial/{donor.id}/flower")  # the same visitor again: not counted
    db.session.refresh(donor)
    assert donor.flowers == 1
    app.test_client().post(f"/memorial/{donor.id}/flower")  # another visitor
    db.session.refresh(donor)
    assert donor.flowers == 2


def test_a_name_taken_down_leaves_the_public_page(world, client, login, app):
    login(client, world.officer)
    client.post("/admin/donors/memorial/", data=_form(world))
    donor = db.session.scalar(select(MemorialDonor))
    login(client, world.sibling)
    assert client.post(f"/admin/donors/memorial/{donor.id}/hide").status_code == 404
    assert "刘德明" not in client.get("/admin/donors/memorial/").get_data(as_text=True)
    login(client, world.officer)
    assert client.post(f"/admin/donors/memorial/{donor.id}/hide").status_code == 302
    assert "刘德明" not in app.test_client().get("/memorial/").get_data(as_text=True)
    app.test_client().post(f"/memorial/{donor.id}/flower")
    db.session.refresh(donor)
    assert donor.flowers == 0 and donor.hidden_at is not None


def test_future_dates_are_refused(world, client, login):
    login(client, world.officer)
    future = date(2099, 1, 1).isoformat()
    r = client.post("/admin/donors/memorial/", data=_form(world, donated_on=future), headers=EN)
    assert "future" in r.get_data(as_text=True) and count(MemorialDonor) == 0
