"""A 14-17-year-old volunteer applicant's guardian consent lives in the consent ledger
(time, text version, IP), shows under "My consents" and can be withdrawn there: a waiting
application is withdrawn, a volunteer under 18 leaves, the guardian's data is deleted."""

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.consent import services as consent
from portal.consent.models import ConsentRecord
from portal.consent.purposes import VOLUNTEER_GUARDIAN
from portal.extensions import db
from portal.review.services import decide
from portal.volunteering import services
from portal.volunteering.models import Volunteer, VolunteerApplication
from tests.conftest import english_client
from tests.test_volunteering import GOOD, add_profile

MINOR = dict(GOOD, guardian_name="张建国", guardian_phone="13800138000", guardian_consent="y")


def _minor(app, make_user, login, tree, age=15):
    user = make_user(locale="en", home_branch_id=tree.a.id)
    add_profile(user, age=age)
    client = english_client(app)
    login(client, user)
    return user, client


def test_the_consent_is_in_the_ledger_with_time_and_version(app, make_user, login, tree):
    user, client = _minor(app, make_user, login, tree)
    assert client.post("/volunteer/apply", data=MINOR).status_code == 302
    [row] = consent.history(user, VOLUNTEER_GUARDIAN)
    assert row.action == "given" and row.version == services.GUARDIAN_VERSION
    assert row.at is not None and row.ip
    application = db.session.scalar(select(VolunteerApplication))
    assert application.guardian_consent_at == row.at
    assert application.guardian_consent_version == row.version
    page = client.get("/account/consents").get_data(as_text=True)
    assert "consent to volunteering (under 18)" in page
    assert f'action="/account/consents/{VOLUNTEER_GUARDIAN}/withdraw"' in page


def test_an_adult_gives_no_guardian_consent(app, make_user, login, tree):
    user, client = _minor(app, make_user, login, tree, age=30)
    assert client.post("/volunteer/apply", data=GOOD).status_code == 302
    assert consent.history(user, VOLUNTEER_GUARDIAN) == []


def test_refused_application_writes_no_consent(app, make_user, login, tree):
    user, client = _minor(app, make_user, login, tree)
    data = dict(MINOR, guardian_phone="12345")
    assert client.post("/volunteer/apply", data=data).status_code == 200
    assert db.session.scalar(select(ConsentRecord)) is None


def _withdraw(client):
    url = f"/account/consents/{VOLUNTEER_GUARDIAN}/withdraw"
    warning = client.post(url, data={})
    assert warning.status_code == 200 and "guardian" in warning.get_data(as_text=True)
    return client.post(url, data={"confirm": "yes"})


def test_withdrawing_withdraws_the_waiting_application(app, make_user, login, tree):
    user, client = _minor(app, make_user, login, tree)
    client.post("/volunteer/apply", data=MINOR)
    assert _withdraw(client).status_code == 302
    db.session.expire_all()
    application = db.session.scalar(select(VolunteerApplication))
    assert application.status == "withdrawn" and application.guardian is None
    assert not consent.is_given(user, VOLUNTEER_GUARDIAN)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"consent_withdrawn", "review_withdrawn"} <= actions


def test_withdrawing_ends_a_minor_volunteer(app, make_user, login, grant_role, tree):
    user, client = _minor(app, make_user, login, tree)
    client.post("/volunteer/apply", data=MINOR)
    officer = grant_role(make_user(), tree.a, "officer")
    decide(db.session.scalar(select(VolunteerApplication)), officer, "approve")
    db.session.commit()
    assert _withdraw(client).status_code == 302
    db.session.expire_all()
    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer.status == "left"
    assert db.session.scalar(select(VolunteerApplication)).guardian is None
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "volunteer_status_changed")
    )
    assert entry.object_id == str(volunteer.id)
    # Asked again on a new application.
    assert client.get("/volunteer/apply").status_code in (200, 302)


def test_adults_are_not_shown_a_guardian_consent_they_were_never_asked(app, make_user, login, tree):
    user, client = _minor(app, make_user, login, tree, age=30)
    assert "consent to volunteering" not in client.get("/account/consents").get_data(as_text=True)
