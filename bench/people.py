"""Benchmark: members and volunteers across the province (issue 10).

500 000 members and 300 000 volunteers (many people are both) spread over the
10 000-branch province bench/workbench.py loads, each person with a real-name profile,
bulk-inserted. Two pages, each paired with /healthz on the same gunicorn server:

- `volunteers_province_area`: the staff volunteer list for the province admin (the
  whole province in scope), filtered by one service area; target 5x.
- `card_verify`: the public verification page of one volunteer's card (the QR code's
  URL), no cookie; target 3x.
"""

import random
import time
from datetime import date, timedelta

from bench.harness import Server
from bench.workbench import BATCH, _after_explicit_ids, _insert, paired

MEMBERS = 500_000
VOLUNTEERS = 300_000
# People: the first MEMBERS are members, the last VOLUNTEERS volunteers; 200 000 are both.
PEOPLE = 600_000
LIST_TARGET, VERIFY_TARGET = 5.0, 3.0
AREA = "first_aid"
AREAS = (
    "first_aid",
    "disaster_relief",
    "donation_promotion",
    "boai_home",
    "youth_schools",
    "elderly_care",
    "water_safety",
    "publicity",
)
SLOTS = ("weekday_evening", "weekend_morning", "weekend_afternoon")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅玉兰志文斌"


def load(seed: int = 20261203) -> dict:
    """Bulk-insert the people (users beyond the inbox loader's, then a profile for each
    person), the members and the volunteers; returns what the measurements need."""
    from sqlalchemy import exists, func, select

    from portal import crypto
    from portal.accounts.models import RealNameProfile, User
    from portal.branches.models import Branch
    from portal.extensions import db
    from portal.membership.models import Member
    from portal.timeutil import utcnow
    from portal.volunteering.models import Volunteer

    rng = random.Random(seed)
    now = utcnow()
    started = time.monotonic()

    def phase(what: str) -> None:
        print(f"  {what}: {time.monotonic() - started:.0f} s")

    today = now.date()
    branches = db.session.execute(
        select(Branch.id, Branch.code).where(Branch.level.in_(("county", "grassroots")))
    ).all()
    codes = {bid: code or str(bid) for bid, code in branches}
    branch_ids = list(codes)
    # The first people are the citizens the inbox loader made (not the service set's
    # volunteers, when it ran first into this database); the rest are new.
    existing = db.session.scalars(
        select(User.id)
        .where(
            User.id > 3,
            ~exists().where(RealNameProfile.user_id == User.id),
            ~exists().where(Volunteer.user_id == User.id),
        )
        .order_by(User.id)
        .limit(PEOPLE)
    ).all()
    next_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    new_users = PEOPLE - len(existing)
    for start in range(0, new_users, BATCH):
        _insert(
            User,
            [
                {"id": next_user + i, "phone": f"17{i:09d}", "created_at": now}
                for i in range(start, min(start + BATCH, new_users))
            ],
        )
    people = list(existing) + list(range(next_user, next_user + new_users))
    phase(f"{new_users} more users")
    # One ciphertext for every row: nothing here decrypts them, and encrypting 800 000
    # values would only time the loader.
    doc_blob = crypto.encrypt("610302199001011234", "doc_number")
    contact_blob = crypto.encrypt(
        '{"name": "王强", "relation": "父亲", "phone": "13812345678"}', "volunteer_emergency"
    )
    for start in range(0, len(people), BATCH):
        rows = []
        for user_id in people[start : start + BATCH]:
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
            rows.append(
                {
                    "user_id": user_id,
                    "full_name": name,
                    "doc_type": "resident_id",
                    "doc_number_enc": doc_blob,
                    "doc_number_hmac": f"{user_id:064d}",
                    "doc_number_masked": "6****************4",
                    "birth_date": born,
                    "sex": rng.choice("MF"),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        _insert(RealNameProfile, rows)
    phase(f"{len(people)} real-name profiles")

    serial: dict[tuple[str, int], int] = {}

    def number(prefix: str, branch_id: int) -> str:
        key = (prefix, branch_id)
        serial[key] = serial.get(key, 0) + 1
        return f"{prefix}-{codes[branch_id]}-{serial[key]:06d}"

    # Explicit ids after any rows another set loaded (the service set's volunteers).
    first_member = db.session.scalar(select(func.max(Member.id))) or 0
    first_volunteer = db.session.scalar(select(func.max(Volunteer.id))) or 0
    statuses = ("active", "expired", "resigned", "revoked")
    for start in range(0, MEMBERS, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, MEMBERS)):
            branch_id = rng.choice(branch_ids)
            valid_from = today - timedelta(days=rng.randrange(365 * 4))
            rows.append(
                {
                    "id": first_member + i + 1,
                    "user_id": people[i],
                    "branch_id": branch_id,
                    "number": number("HY", branch_id),
                    "member_type": rng.choices(("ordinary", "youth", "honorary"), (85, 14, 1))[0],
                    "status": rng.choices(statuses, (85, 8, 5, 2))[0],
                    "valid_from": valid_from,
                    "valid_until": valid_from + timedelta(days=3 * 365),
                    "card_token": f"bench-m{i:07d}-{rng.getrandbits(64):016x}",
                    "created_at": now - timedelta(days=(today - valid_from).days),
                }
            )
        _insert(Member, rows)
    phase(f"{MEMBERS} members")
    offset = PEOPLE - VOLUNTEERS
    for start in range(0, VOLUNTEERS, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, VOLUNTEERS)):
            branch_id = rng.choice(branch_ids)
            registered = now - timedelta(minutes=rng.randrange(60 * 24 * 365 * 5))
            areas = set(rng.sample(AREAS, rng.choice((1, 1, 2, 3))))
            rows.append(
                {
                    "id": first_volunteer + i + 1,
                    "user_id": people[offset + i],
                    "branch_id": branch_id,
                    "number": number("ZY", branch_id),
                    "card_token": f"bench-v{i:07d}-{rng.getrandbits(64):016x}",
                    "status": rng.choices(("active", "suspended", "left"), (90, 3, 7))[0],
                    "registered_at": registered,
                    "updated_at": registered,
                    "service_areas": ",".join(a for a in AREAS if a in areas),
                    "availability": ",".join(sorted(rng.sample(SLOTS, 2))),
                    "emergency_contact_enc": contact_blob,
                }
            )
        _insert(Volunteer, rows)
    db.session.commit()
    phase(f"{VOLUNTEERS} volunteers")
    _after_explicit_ids(["users", "members", "volunteers"])
    phase("VACUUM ANALYZE")
    return {"people": len(people)}


def _volunteer_token() -> str:
    """An active volunteer's card token, from the middle of the table."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.volunteering.models import Volunteer

    return db.session.scalar(
        select(Volunteer.card_token)
        .where(Volunteer.id >= VOLUNTEERS // 2, Volunteer.status == "active")
        .order_by(Volunteer.id)
        .limit(1)
    )


def run(env: dict[str, str], app, reuse: bool = False) -> list[dict]:
    from bench.harness import login_cookie
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        if not reuse:
            started = time.monotonic()
            load()
            print(
                f"loaded {MEMBERS} members and {VOLUNTEERS} volunteers "
                f"in {time.monotonic() - started:.0f} s"
            )
        token = _volunteer_token()
        admin = login_cookie(db.session.get(User, 1), app.config["SESSION_COOKIE_NAME"])
        db.session.commit()
        db.engine.dispose()
    scale = f"{MEMBERS} members, {VOLUNTEERS} volunteers"
    # Behind one trusted proxy, so the verification page's per-visitor rate limit can be
    # met with a different visitor address on each request (harness.measure spread_ips).
    with Server({**env, "TRUSTED_PROXY_COUNT": "1"}) as server:
        healthz = server.base + "/healthz"
        return [
            paired(
                "volunteers_province_area",
                f"median latency GET /admin/volunteering/?area={AREA}, province admin ({scale})",
                f"{server.base}/admin/volunteering/?area={AREA}",
                admin,
                "ZY-",
                healthz,
                target=LIST_TARGET,
            ),
            paired(
                "card_verify",
                f"median latency GET /verify/<token>, a volunteer's card, no cookie, a new "
                f"visitor address per request ({scale})",
                f"{server.base}/verify/{token}",
                None,
                "ZY-",
                healthz,
                target=VERIFY_TARGET,
                spread_ips=True,
            ),
        ]
