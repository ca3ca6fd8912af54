"""Importing existing members from XLSX (staff): the member columns and how a checked
row becomes a Member. The reading, checking and writing are portal.importing's."""

from datetime import date
from functools import lru_cache

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal import importing
from portal.cards.services import new_token
from portal.importing import CellProblem, Column, Kind, Row
from portal.membership.models import ACTIVE, EXPIRED, Member
from portal.membership.services import TYPES, add_years, term_years
from portal.timeutil import utcnow

NUMBER = Column(
    "number",
    _l("Member number"),
    help=_l(
        "Their existing member number, kept as it is. Leave empty for a new number "
        "from the branch's series."
    ),
    example="HY-610302-000001",
    aliases=("会员编号", "会员证号", "编号"),
)
TYPE = Column(
    "member_type",
    _l("Membership type"),
    help=_l("Ordinary member, youth member (students) or honorary member. Empty: ordinary."),
    example="普通会员",
    aliases=("会员类型", "会员类别", "类别", "type"),
)
VALID_FROM = Column(
    "valid_from",
    _l("Valid from"),
    help=_l("When the current term began. Empty: today."),
    example="2024-03-05",
    aliases=("入会日期", "有效期起", "生效日期", "起始日期"),
)
VALID_UNTIL = Column(
    "valid_until",
    _l("Valid until"),
    help=_l("When the current term ends. Empty: one full term after it began."),
    example="2027-03-04",
    aliases=("有效期至", "到期日期", "截止日期"),
)


@lru_cache(maxsize=1)
def _type_names() -> dict[str, str]:
    names = {}
    for key, label in TYPES.items():
        names[key] = key
        for locale in ("zh", "en"):
            with force_locale(locale):
                names[str(label).lower()] = key
    # What branches' own spreadsheets tend to call them.
    names.update(
        {
            "普通会员": "ordinary",
            "学生会员": "youth",
            "青少年会员": "youth",
            "荣誉会员": "honorary",
            "普通": "ordinary",
            "荣誉": "honorary",
        }
    )
    return names


def _member_type(value) -> str:
    key = _type_names().get(importing.cell_text(value).lower())
    if key is None:
        raise CellProblem(_l("Unknown membership type: write ordinary, youth or honorary member."))
    return key


def _parse(take) -> dict:
    member_type = take("member_type", _member_type) or "ordinary"
    valid_from = take("valid_from", importing.parse_date)
    valid_until = take("valid_until", importing.parse_date)
    if valid_from and valid_until and valid_until < valid_from:
        take("valid_until", _refuse, _l("The term ends before it begins."))
    return {"member_type": member_type, "valid_from": valid_from, "valid_until": valid_until}


def _refuse(_value, message):
    raise CellProblem(message)


def _build(row: Row, number: str, today: date) -> dict:
    valid_from = row.values["valid_from"] or today
    valid_until = row.values["valid_until"] or add_years(valid_from, term_years())
    ended = valid_until < today
    now = utcnow()
    return {
        "user_id": row.user_id,
        "branch_id": row.branch.id,
        "number": number,
        "member_type": row.values["member_type"],
        # A term already over comes in expired, with its notice marked as given: the
        # expiry run must not text people about a term that ended before the import.
        "status": EXPIRED if ended else ACTIVE,
        "expired_notice_at": now if ended else None,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "card_token": new_token(),
        "created_at": now,
    }


KIND = Kind(
    key="members",
    columns=(NUMBER, TYPE, VALID_FROM, VALID_UNTIL),
    number_prefix="HY",
    series="member",
    number_max=40,
    model=Member,
    parse=_parse,
    build=_build,
    already=lambda number: _l("Already a member (%(number)s).", number=number),
)
