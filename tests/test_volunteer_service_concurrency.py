"""A hundred volunteers sign up for a twenty-seat shift at the same moment: exactly
twenty sign-ups, twenty seats taken, nobody twice. Runs on SQLite (writers serialised
on the file) and on PostgreSQL (real concurrent transactions) alike."""

import threading

from sqlalchemy import func, select

from portal.extensions import db
from portal.review.services import ReviewError
from portal.volunteering import signups
from portal.volunteering.models import Volunteer
from portal.volunteering.service_models import SIGNED_UP, ShiftSignup, VolunteerShift
from tests.service_helpers import make_activity, make_volunteer

PEOPLE, SEATS = 100, 20


def test_a_hundred_sign_ups_for_twenty_seats(app, tree, make_user):
    shift_id = make_activity(tree.a, shifts=((5, 3, SEATS),)).shifts[0].id
    volunteer_ids = [
        make_volunteer(make_user(), tree.a, name=f"王{i}明").id for i in range(PEOPLE - 1)
    ]
    volunteer_ids.append(volunteer_ids[0])  # one person submits twice at once
    barrier = threading.Barrier(PEOPLE)
    won, full, errors = [], [], []

    def attempt(volunteer_id: int) -> None:
        try:
            barrier.wait(timeout=60)  # before any connection is taken (see the pool)
            with app.app_context():
                try:
                    signups.sign_up(
                        db.session.get(Volunteer, volunteer_id),
                        db.session.get(VolunteerShift, shift_id),
                    )
                    db.session.commit()
                    won.append(volunteer_id)
                except ReviewError:
                    db.session.rollback()
                    full.append(volunteer_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(v,)) for v in volunteer_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.expire_all()
    rows = db.session.execute(
        select(ShiftSignup.volunteer_id, func.count())
        .where(ShiftSignup.shift_id == shift_id, ShiftSignup.status == SIGNED_UP)
        .group_by(ShiftSignup.volunteer_id)
    ).all()
    assert len(rows) == SEATS and all(n == 1 for _v, n in rows)
    assert len(won) == SEATS and len(full) == PEOPLE - SEATS
    assert db.session.get(VolunteerShift, shift_id).seats_taken == SEATS


def test_one_volunteer_signing_up_for_ten_overlapping_shifts_at_once_gets_one(app, tree, make_user):
    """Ten tabs, ten different activities at the same hour, one person: the overlap
    check alone would let every tab through (none sees the others' rows yet)."""
    tabs = 10
    shift_ids = [
        make_activity(tree.a, title=f"应急救护宣传第{i}站").shifts[0].id for i in range(tabs)
    ]
    volunteer_id = make_volunteer(make_user(), tree.a).id
    barrier = threading.Barrier(tabs)
    won, refused, errors = [], [], []

    def attempt(shift_id: int) -> None:
        try:
            barrier.wait(timeout=60)
            with app.app_context():
                try:
                    signups.sign_up(
                        db.session.get(Volunteer, volunteer_id),
                        db.session.get(VolunteerShift, shift_id),
                    )
                    db.session.commit()
                    won.append(shift_id)
                except ReviewError:
                    db.session.rollback()
                    refused.append(shift_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(s,)) for s in shift_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(won) == 1 and len(refused) == tabs - 1
    db.session.expire_all()
    live = db.session.scalars(
        select(ShiftSignup.shift_id).where(
            ShiftSignup.volunteer_id == volunteer_id, ShiftSignup.status == SIGNED_UP
        )
    ).all()
    assert live == won
    taken = db.session.scalar(
        select(func.sum(VolunteerShift.seats_taken)).where(VolunteerShift.id.in_(shift_ids))
    )
    assert taken == 1  # the refused tabs gave their seats back
