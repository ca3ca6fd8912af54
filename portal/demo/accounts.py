"""Demo citizens living in Baoji, each with a verified phone and a real-name profile.
Idempotent: users are found by phone, and a profile is added only where one is missing.
None of them is staff (portal/demo/staff.py makes those)."""

from datetime import date

from sqlalchemy import select

from portal.accounts.identity import RESIDENT_ID
from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.accounts.profiles import save_profile
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.timeutil import utcnow

# (phone, name, region code of a Baoji county, birth date, 3-digit sequence: odd = male)
CITIZENS = [
    ("13900000001", "王秀英", "610323", date(1952, 3, 14), "024"),  # 岐山县
    ("13900000002", "李建国", "610324", date(1958, 10, 1), "013"),  # 扶风县
    ("13900000003", "张丽娟", "610302", date(1988, 6, 22), "046"),  # 渭滨区
    ("13900000004", "买买提·艾力", "610302", date(1986, 4, 9), "071"),  # 渭滨区
    ("13900000005", "黄䶮", "610327", date(1995, 12, 5), "035"),  # 陇县; 䶮 is a rare character
    ("13900000006", "赵淑芬", "610328", date(1965, 8, 30), "082"),  # 千阳县
]

_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    value = (12 - sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11) % 11
    return "X" if value == 10 else str(value)


def resident_id(region: str, born: date, sequence: str) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence}"
    return first17 + check_digit(first17)


def demo_citizen(phone, name, region, born, sequence, branch=None) -> User:
    """The demo citizen with `phone`, made on first use with a verified number and a
    real-name profile (a valid resident ID from region, birth date and sequence), and
    `branch` as their home branch if they have none. Every demo loader uses this one."""
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(
            phone=phone, password_hash=hash_password(DEMO_PASSWORD), phone_verified_at=utcnow()
        )
        db.session.add(user)
        db.session.flush()
    if user.profile is None:
        save_profile(
            user,
            full_name=name,
            doc_type=RESIDENT_ID,
            doc_number=resident_id(region, born, sequence),
            id_consent=True,  # demo citizens are made as having ticked the box
        )
    if branch is not None and user.home_branch_id is None:
        user.home_branch_id = branch.id
    return user


def load() -> list[str]:
    lines = []
    for phone, name, region, born, sequence in CITIZENS:
        demo_citizen(phone, name, region, born, sequence)
        lines.append(f"citizen  {phone} / {DEMO_PASSWORD}  {name}")
    return lines
