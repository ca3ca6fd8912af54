"""Volunteer registration: the application, its rules, approval in the inbox, the
number, the card and its public verification, the volunteer's own pages."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.accounts.models import RealNameProfile
from portal.extensions import db
from portal.notifications.models import Notification
from portal.review.services import ReviewError, decide
from portal.timeutil import today_local
from portal.volunteering import services
from portal.volunteering.models import Volunteer, VolunteerApplication
from tests.conftest import count, english_client

GOOD = {
    "service_areas": ["first_aid", "elderly_care"],
    "availability": ["weekend_morning", "weekday_evening"],
    "skills": "红十字救护员证",
    "languages": "普通话、陕西话",
    "emergency_name": "张建国",
    "emergency_relation": "父亲",
    "emergency_phone": "138 0013 8000",
    "health": "无",
    "agree_code": "y",
}


def born_years_ago(years: int, extra_days: int = 0) -> date:
    today = today_local()
    return date(today.year - years, today.month, min(today.day, 28)) if not extra_days else today


def add_profile(user, name="张晓明", age=30, id_masked="6****************X"):
    today = today_local()
    db.session.add(
        RealNameProfile(
            user_id=user.id,
            full_name=name,
            doc_type="resident_id",
            doc_number_enc=b"x",
            doc_number_hmac=f"{user.id:064d}",
            doc_number_masked=id_masked,
            # the day before the birthday this year, so the age is exactly `age`
            birth_date=date(today.year - age - 1, 1, 1)
            if (today.month, today.day) == (1, 1)
            else date(today.year - age, 1, 1),
        )
    )
    db.session.commit()


@pytest.fixture
def citizen(make_user, tree):
    user = make_user(locale="en", home_branch_id=tree.a.id)
    add_profile(user)
    return user


@pytest.fixture
def officer(make_user, grant_role, tree):
    return grant_role(make_user(locale="en"), tree.a, "officer")


@pytest.fixture
def browser_client(app, login, citizen):
    client = english_client(app)
    login(client, citizen)
    return client


def details(**kw) -> services.Details:
    values = dict(
        service_areas=["first_aid"],
        availability=["weekend_morning"],
        skills=None,
        languages=None,
        emergency_name="张建国",
        emergency_relation="父亲",
        emergency_phone="13800138000",
        health=None,
    )
    values.update(kw)
    return services.Details(**values)


# --- the journey over HTTP -----------------------------------------------------------------


def test_apply_approve_number_card_and_verification(
    app, browser_client, citizen, officer, login, tree
):
    page = browser_client.get("/volunteer/apply")
    assert page.status_code == 200
    assert "humanity, impartiality" in page.get_data(as_text=True)
    response = browser_client.post("/volunteer/apply", data=GOOD)
    assert response.status_code == 302
    application = db.session.scalar(select(VolunteerApplication))
    assert application.branch_id == tree.a.id and application.status == "pending"
    assert application.service_areas == "first_aid,elderly_care"
    # sensitive details are encrypted at rest
    assert "张建国".encode() not in application.emergency_contact_enc
    assert application.emergency_contact["phone"] == "13800138000"
    assert application.code_version == services.CODE_VERSION

    staff = english_client(app)
    login(staff, officer)
    inbox = staff.get("/admin/inbox?kind=volunteer").get_data(as_text=True)
    assert "张晓明" in inbox and "applies to volunteer" in inbox
    item = staff.get(f"/admin/inbox/volunteer/{application.id}")
    assert item.status_code == 200 and "Emergency first aid" in item.get_data(as_text=True)
    assert staff.post(f"/admin/inbox/volunteer/{application.id}/approve").status_code == 302

    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer.user_id == citizen.id and volunteer.status == "active"
    assert volunteer.number == f"ZY-{tree.a.code or tree.a.id}-000001"
    sms = db.session.scalars(
        select(Notification).where(Notification.recipient == citizen.phone)
    ).all()
    received, approved = sms
    assert received.kind == "volunteer_received" and "received by" in received.body
    assert approved.kind == "review_decision" and volunteer.number in approved.body

    card = browser_client.get("/volunteer/card").get_data(as_text=True)
    assert volunteer.number in card and "张晓明" in card and "6****************X" in card
    assert "<svg" in card and 'class="card"' in card

    stranger = english_client(app)
    verify = stranger.get(f"/verify/{volunteer.card_token}")
    html = verify.get_data(as_text=True)
    assert verify.status_code == 200
    assert "张*明" in html and volunteer.number in html
    for secret in ("张晓明", citizen.phone, "6****************X", "13800138000", "张建国"):
        assert secret not in html


def test_verification_by_number_and_surname(app, citizen, officer, tree):
    application = services.apply(citizen, tree.a, details(), agreed_code=True)
    db.session.commit()
    decide(application, officer, "approve")
    db.session.commit()
    volunteer = services.volunteer_of(citizen)
    assert services._by_number(volunteer.number, "张").masked_name == "张*明"
    assert services._by_number(volunteer.number, "李") is None
    assert services._by_token("nope") is None


def test_numbers_are_sequential_per_branch_and_unique(app, make_user, officer, tree):
    numbers = []
    for i in range(3):
        user = make_user(home_branch_id=tree.a.id)
        add_profile(user, name=f"王{i}明")
        application = services.apply(user, tree.a, details(), agreed_code=True)
        decide(application, officer, "approve")
        db.session.commit()
        numbers.append(services.volunteer_of(user).number)
    code = tree.a.code or tree.a.id
    assert numbers == [f"ZY-{code}-00000{n}" for n in (1, 2, 3)]
    tokens = db.session.scalars(select(Volunteer.card_token)).all()
    assert len(set(tokens)) == 3


# --- rules -------------------------------------------------------------------------------


def test_without_a_profile_the_page_links_to_it(app, make_user, login, tree):
    user = make_user(locale="en", home_branch_id=tree.a.id)
    client = english_client(app)
    login(client, user)
    page = client.get("/volunteer/apply").get_data(as_text=True)
    assert "add your real-name profile" in page and "/profile" in page
    assert client.post("/volunteer/apply", data=GOOD).status_code == 200
    assert count(VolunteerApplication) == 0
    with pytest.raises(ReviewError):
        services.apply(user, tree.a, details(), agreed_code=True)


def test_under_14_is_refused(app, make_user, login, tree):
    user = make_user(locale="en", home_branch_id=tree.a.id)
    add_profile(user, age=13)
    client = english_client(app)
    login(client, user)
    page = client.post("/volunteer/apply", data=GOOD)
    assert page.status_code == 200
    assert "at least 14 years old" in page.get_data(as_text=True)
    assert count(VolunteerApplication) == 0
    with pytest.raises(ReviewError):
        services.apply(user, tree.a, details(), agreed_code=True)


def test_14_to_17_need_a_guardian_and_consent(app, make_user, login, tree):
    user = make_user(locale="en", home_branch_id=tree.a.id)
    add_profile(user, age=15)
    client = english_client(app)
    login(client, user)
    page = client.post("/volunteer/apply", data=GOOD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "need a parent or guardian&#39;s name" in html or "guardian's name" in html
    assert "need their parent or guardian" in html
    assert 'value="张建国"' in html  # typed values kept
    assert count(VolunteerApplication) == 0

    data = dict(GOOD, guardian_name="张建国", guardian_phone="13800138000", guardian_consent="y")
    assert client.post("/volunteer/apply", data=data).status_code == 302
    application = db.session.scalar(select(VolunteerApplication))
    assert application.guardian == {"name": "张建国", "phone": "13800138000"}
    assert application.guardian_consent_at is not None
    assert application.guardian_consent_version == services.GUARDIAN_VERSION


@pytest.mark.parametrize(
    "change, message",
    [
        ({"service_areas": []}, "at least one service area"),
        ({"service_areas": ["juggling"]}, "only from the list"),
        ({"availability": []}, "when you are usually free"),
        ({"availability": ["sunday_midnight"]}, "only from the list"),
        ({"emergency_phone": "12345"}, "11-digit"),
        ({"emergency_phone": "+852 9123 4567"}, "mainland"),
        ({"emergency_name": ""}, "emergency contact"),
        ({"emergency_name": "张\u202e明"}, "special characters"),
        ({"skills": "x" * 501}, "at most 500"),
        ({"agree_code": ""}, "agree to the volunteer code"),
    ],
)
def test_bad_input_is_refused_beside_the_field(browser_client, change, message):
    data = dict(GOOD, **change)
    response = browser_client.post("/volunteer/apply", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'class="error"' in html
    assert count(VolunteerApplication) == 0
    if change == {"emergency_name": ""}:
        assert 'value="138 0013 8000"' in html


def test_one_pending_application_per_person(browser_client, citizen, tree):
    assert browser_client.post("/volunteer/apply", data=GOOD).status_code == 302
    again = browser_client.get("/volunteer/apply")
    assert again.status_code == 302
    with pytest.raises(ReviewError):
        services.apply(citizen, tree.a, details(), agreed_code=True)
    assert count(VolunteerApplication) == 1


def test_withdraw_from_my_red_cross(browser_client, citizen, make_user, app, login):
    browser_client.post("/volunteer/apply", data=GOOD)
    application = db.session.scalar(select(VolunteerApplication))
    my = browser_client.get("/my").get_data(as_text=True)
    assert "You applied to volunteer" in my
    other = english_client(app)
    login(other, make_user())
    assert other.post(f"/volunteer/applications/{application.id}/withdraw").status_code == 404
    assert (
        browser_client.post(f"/volunteer/applications/{application.id}/withdraw").status_code == 302
    )
    db.session.refresh(application)
    assert application.status == "withdrawn"


def test_a_volunteer_edits_details_without_new_approval(browser_client, citizen, officer, tree):
    application = services.apply(citizen, tree.a, details(), agreed_code=True)
    decide(application, officer, "approve")
    db.session.commit()
    page = browser_client.get("/volunteer/details")
    assert page.status_code == 200 and "138" in page.get_data(as_text=True)
    data = dict(GOOD, service_areas=["water_safety"], emergency_phone="13900139000")
    assert browser_client.post("/volunteer/details", data=data).status_code == 302
    volunteer = services.volunteer_of(citizen)
    db.session.refresh(volunteer)
    assert volunteer.service_areas == "water_safety"
    assert volunteer.emergency_contact["phone"] == "13900139000"
    assert count(VolunteerApplication) == 1
    bad = browser_client.post("/volunteer/details", data=dict(GOOD, emergency_phone="1"))
    assert bad.status_code == 200
    db.session.refresh(volunteer)
    assert volunteer.emergency_contact["phone"] == "13900139000"


def test_card_and_details_need_a_volunteer(browser_client):
    assert browser_client.get("/volunteer/card").status_code == 404
    assert browser_client.get("/volunteer/details").status_code == 404


def test_join_page_for_visitors_and_citizens(app, browser_client):
    visitor = english_client(app)
    assert visitor.get("/volunteer/").status_code == 200
    assert "Register as a volunteer" in browser_client.get("/volunteer/").get_data(as_text=True)


def test_the_dashboard_counts_approved_volunteers_up_the_tree(app, citizen, officer, tree):
    from portal.admin.indicators import get_indicator, rollup
    from portal.branches.scope import ids_under

    indicator = get_indicator("volunteers")
    assert indicator.live
    year = today_local().year
    assert rollup(indicator, ids_under([tree.n.path]), [tree.c], year)[tree.c.id].this_year == 0
    application = services.apply(citizen, tree.a, details(), agreed_code=True)
    db.session.commit()
    assert rollup(indicator, ids_under([tree.n.path]), [tree.c], year)[tree.c.id].this_year == 0
    decide(application, officer, "approve")
    db.session.commit()
    figures = rollup(indicator, ids_under([tree.n.path]), [tree.c, tree.b], year)
    assert figures[tree.c.id].this_year == 1 and figures[tree.b.id].this_year == 0


def test_the_demo_has_volunteers_a_pending_one_and_a_team_and_stays_idempotent(app):
    from portal.demo import load_all
    from portal.volunteering.models import VolunteerTeam, VolunteerTeamMember

    load_all()
    load_all()
    assert count(Volunteer) == 10
    pending = db.session.scalars(
        select(VolunteerApplication).where(VolunteerApplication.status == "pending")
    ).all()
    assert len(pending) == 1
    assert count(VolunteerTeam) == 1 and count(VolunteerTeamMember) == 3
    numbers = db.session.scalars(select(Volunteer.number)).all()
    assert "ZY-610302-000001" in numbers and len(set(numbers)) == 10


@pytest.mark.parametrize(
    "change",
    [
        {"skills": "x" * 501},
        {"health": "\u202e"},
        {"emergency_phone": "12345"},
        {"emergency_name": ""},
        {"service_areas": ["juggling"]},
        {"availability": []},
    ],
)
def test_the_service_refuses_bad_details_from_any_caller(citizen, tree, change):
    with pytest.raises(ReviewError):
        services.apply(citizen, tree.a, details(**change), agreed_code=True)
    assert count(VolunteerApplication) == 0


def test_one_sms_in_chinese_carries_the_number(app, make_user, officer, tree):
    user = make_user(locale="zh", home_branch_id=tree.a.id)
    add_profile(user)
    application = services.apply(user, tree.a, details(), agreed_code=True)
    decide(application, officer, "approve")
    db.session.commit()
    (sms,) = db.session.scalars(select(Notification).where(Notification.recipient == user.phone))
    number = services.volunteer_of(user).number
    assert sms.body.endswith(f"通过。您的志愿者编号为{number}。")
