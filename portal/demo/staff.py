"""Demo staff: a national admin, province, city and county staff in Shaanxi, and one in
Gansu for contrast. Idempotent: accounts are found by phone, roles only added once."""

from sqlalchemy import select

from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.branches.models import StaffRole
from portal.demo import DEMO_PASSWORD
from portal.demo.branches import by_code, national
from portal.extensions import db
from portal.timeutil import utcnow

# (phone, branch code or None for the national society, role)
STAFF = [
    ("13800000001", None, "admin"),
    ("13800000002", "610000", "admin"),  # 陕西省
    ("13800000003", "610300", "admin"),  # 宝鸡市
    ("13800000004", "610300", "auditor"),  # 宝鸡市
    ("13800000005", "610302", "officer"),  # 渭滨区
    ("13800000006", "610323", "officer"),  # 岐山县
    ("13800000007", "620000", "officer"),  # 甘肃省
]


def load() -> list[str]:
    lines = []
    for phone, code, role in STAFF:
        branch = by_code(code) if code else national()
        user = db.session.scalar(select(User).where(User.phone == phone))
        if user is None:
            user = User(
                phone=phone, password_hash=hash_password(DEMO_PASSWORD), phone_verified_at=utcnow()
            )
            db.session.add(user)
            db.session.flush()
        held = db.session.scalar(
            select(StaffRole.id).where(
                StaffRole.user_id == user.id,
                StaffRole.branch_id == branch.id,
                StaffRole.role == role,
                StaffRole.revoked_at.is_(None),
            )
        )
        if held is None:
            db.session.add(StaffRole(user_id=user.id, branch_id=branch.id, role=role))
        lines.append(f"staff  {phone} / {DEMO_PASSWORD}  {branch.name_zh} {role}")
    db.session.flush()
    return lines
