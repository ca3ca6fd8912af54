"""The ledger's rules, tested on the services: receipts, restricted gifts, allocations,
expenses within what was allocated, reversals that keep history, and exact tallies."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.donations import ledger, spending, tallies
from portal.donations.errors import LedgerError
from portal.donations.models import GOODS, ORGANISATION, Allocation, Donation, Expense, Project
from portal.donations.money import BadAmount, parse_quantity, parse_yuan
from portal.extensions import db
from tests.donations_helpers import donations_world, gift, person


@pytest.fixture
def world(make_branch, make_user, grant_role):
    return donations_world(make_branch, make_user, grant_role)


@pytest.mark.parametrize(
    "typed, fen",
    [
        ("1,234.56", 123456),
        ("1234.5", 123450),
        ("200", 20000),
        ("¥ 8", 800),
        ("８００元", 80000),
        ("0.01", 1),
        ("1,000,000", 100000000),
        ("  3.10 ", 310),
    ],
)
def test_amounts_parse_to_exact_fen(typed, fen):
    assert parse_yuan(typed) == fen


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "abc",
        "1.234",
        "1,23",
        "-5",
        "0",
        "0.00",
        "1e5",
        "NaN",
        "12,34.5",
        "1.",
        ".5",
        "9" * 40,
        "1\x00",
        "2000000000",
    ],
)
def test_amounts_that_are_not_money_are_refused(typed):
    with pytest.raises(BadAmount):
        parse_yuan(typed)


def test_quantities():
    assert parse_quantity("500") == "500"
    assert parse_quantity("1.50") == "1.5"
    assert parse_quantity("0") is None
    assert parse_quantity("箱") is None


def test_receipts_are_gapless_per_branch_and_year(app, world):
    a = ledger.record(world.county, None, gift(), person(), world.officer, "officer")
    b = ledger.record(world.county, None, gift(), person(), world.officer, "officer")
    c = ledger.record(world.city, None, gift(), person(), world.officer, "officer")
    d = ledger.record(
        world.county, None, gift(on=date(2027, 1, 2)), person(), world.officer, "officer"
    )
    db.session.commit()
    assert [a.receipt_number, b.receipt_number] == [
        "JZ-610302-2026-000001",
        "JZ-610302-2026-000002",
    ]
    assert c.receipt_number == "JZ-610300-2026-000001"
    assert d.receipt_number == "JZ-610302-2027-000001"
    assert a.verify_token != b.verify_token


def test_person_donor_is_private_and_linked_to_a_verified_account(app, world, make_user):
    user = make_user(phone="13900002222")
    d = ledger.record(
        world.county, None, gift(), person("王小明", "13900002222"), world.officer, "officer"
    )
    anon = ledger.record(
        world.county, None, gift(), person("李四", None, anonymous=True), world.officer, "officer"
    )
    db.session.commit()
    assert d.donor_user_id == user.id
    assert d.public_label == "王*明"
    assert b"\xe7\x8e\x8b" not in d.donor_name_enc  # 王 is not stored in clear
    assert d.donor_name == "王小明" and d.donor_phone == "13900002222"
    assert anon.public_label == "" and anon.donor_user_id is None


def test_restricted_gift_is_allocated_to_its_project_at_its_branch(app, world):
    d = ledger.record(world.city, world.home, gift(50_000), person(), world.officer, "officer")
    db.session.commit()
    db.session.refresh(world.home)
    assert d.branch_id == world.county.id  # the project's branch receives it
    assert (world.home.received_fen, world.home.allocated_fen) == (50_000, 50_000)
    assert db.session.get(Donation, d.id).allocated_fen == 50_000


def test_expense_beyond_allocation_is_refused(app, world):
    ledger.record(world.county, world.home, gift(30_000), person(), world.officer, "officer")
    db.session.commit()
    spending.record_expense(
        world.home, date(2026, 3, 9), 20_000, "棉被", "12户，凤县", world.officer, "officer"
    )
    db.session.commit()
    with pytest.raises(LedgerError):
        spending.record_expense(
            world.home, date(2026, 3, 9), 10_001, "棉被", "3户", world.officer, "officer"
        )
    db.session.rollback()
    db.session.refresh(world.home)
    assert world.home.spent_fen == 20_000
    assert len(db.session.scalars(select(Expense)).all()) == 1


def test_unrestricted_pool_is_allocated_oldest_first_within_the_branch(app, world):
    first = ledger.record(
        world.county, None, gift(10_000, on=date(2026, 1, 5)), person(), world.officer, "officer"
    )
    second = ledger.record(
        world.county, None, gift(20_000, on=date(2026, 2, 5)), person(), world.officer, "officer"
    )
    db.session.commit()
    assert spending.pool_left(world.county.id) == 30_000
    made = spending.allocate_from_pool(
        world.county, world.home, 15_000, date(2026, 3, 1), world.officer, "officer"
    )
    db.session.commit()
    assert [(a.donation_id, a.amount_fen) for a in made] == [(first.id, 10_000), (second.id, 5_000)]
    assert spending.pool_left(world.county.id) == 15_000
    with pytest.raises(LedgerError):
        spending.allocate_from_pool(
            world.county, world.home, 15_001, date(2026, 3, 1), world.officer, "officer"
        )
    db.session.rollback()
    with pytest.raises(LedgerError):  # the city's project is not the county's to fund
        spending.allocate_from_pool(
            world.county, world.angel, 100, date(2026, 3, 1), world.officer, "officer"
        )


def test_reversal_keeps_history_and_correction_replaces(app, world):
    original = ledger.record(
        world.county, world.home, gift(30_000), person(), world.officer, "officer"
    )
    db.session.commit()
    new = ledger.correct(
        original,
        world.home,
        gift(3_000),
        person(),
        world.officer,
        "officer",
        "金额录入错误",
        date(2026, 3, 6),
    )
    db.session.commit()
    rows = db.session.scalars(select(Donation).order_by(Donation.id)).all()
    assert [(r.amount_fen, r.reverses_id, r.corrects_id) for r in rows] == [
        (30_000, None, None),
        (-30_000, original.id, None),
        (3_000, None, original.id),
    ]
    assert rows[1].receipt_number.startswith("CZ-610302-2026-")
    assert new.receipt_number == "JZ-610302-2026-000002"
    db.session.refresh(world.home)
    assert (world.home.received_fen, world.home.allocated_fen) == (3_000, 3_000)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["donation_recorded", "donation_reversed", "donation_corrected"]
    with pytest.raises(LedgerError):
        ledger.reverse(original, world.officer, "officer", "again", date(2026, 3, 7))
    assert tallies.check() == []


def test_reversal_refused_when_project_spent_the_money(app, world):
    d = ledger.record(world.county, world.home, gift(30_000), person(), world.officer, "officer")
    db.session.commit()
    spending.record_expense(
        world.home, date(2026, 3, 9), 25_000, "药品", "患儿家庭3户", world.officer, "officer"
    )
    db.session.commit()
    with pytest.raises(LedgerError):
        ledger.reverse(d, world.officer, "officer", "退款", date(2026, 3, 10))
    db.session.rollback()
    assert len(db.session.scalars(select(Allocation)).all()) == 1


def test_goods_and_organisations(app, world):
    donor = ledger.Donor(
        kind=ORGANISATION, name="宝鸡金台精密机械有限公司", uscc="91610300MA6X5G7J3C"
    )
    g = ledger.Gift(
        kind=GOODS,
        amount_fen=1_200_000,
        received_on=date(2026, 1, 20),
        goods_description="棉被",
        goods_quantity="200",
        goods_unit="床",
        valuation_basis="发票单价60元",
    )
    d = ledger.record(world.county, None, g, donor, world.officer, "officer")
    db.session.commit()
    assert d.public_label == "宝鸡金台精密机械有限公司" and d.channel is None
    with pytest.raises(LedgerError):
        ledger.record(
            world.county,
            None,
            ledger.Gift(kind=GOODS, amount_fen=5, received_on=date(2026, 1, 1)),
            donor,
            world.officer,
            "officer",
        )


def test_closed_project_takes_no_gifts(app, world):
    world.home.status = "closed"
    db.session.commit()
    with pytest.raises(LedgerError):
        ledger.record(world.county, world.home, gift(), person(), world.officer, "officer")


def test_tallies_match_entries(app, world):
    ledger.record(world.county, world.home, gift(30_000), person(), world.officer, "officer")
    ledger.record(
        world.county, None, gift(7_000, channel="bank"), person(), world.officer, "officer"
    )
    spending.allocate_from_pool(
        world.county, world.home, 5_000, date(2026, 4, 1), world.officer, "officer"
    )
    e = spending.record_expense(
        world.home, date(2026, 4, 2), 1_000, "物资", "5户", world.officer, "officer"
    )
    spending.reverse_expense(e, date(2026, 4, 3), "重复录入", world.officer, "officer")
    db.session.commit()
    assert tallies.check() == []
    home = db.session.get(Project, world.home.id)
    assert (home.allocated_fen, home.spent_fen) == (35_000, 0)


def test_rebuild_tallies_from_the_ledger(app, world):
    from portal.donations.models import DonationTally

    ledger.record(world.county, world.home, gift(30_000), person(), world.officer, "officer")
    db.session.commit()
    db.session.execute(DonationTally.__table__.update().values(fen=1))
    assert tallies.check() != []
    tallies.rebuild()
    db.session.commit()
    assert tallies.check() == []


def test_moving_a_branch_moves_its_sums(app, world, make_branch, make_user, grant_role):
    from portal.branches.services import move_branch
    from portal.donations.public_query import Scope, accounts

    ledger.record(world.county, world.home, gift(30_000), person(), world.officer, "officer")
    db.session.commit()
    new_city = make_branch(world.province, name="咸阳市红十字会", code="610400")
    admin = grant_role(make_user(), world.national, "admin")
    move_branch(world.county, new_city, actor=admin)
    db.session.commit()
    assert tallies.check() == []
    assert accounts(Scope(branch=new_city)).figures.received == 30_000
    assert accounts(Scope(branch=world.city)).figures.received == 0
    assert accounts(Scope()).figures.received == 30_000
