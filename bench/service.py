"""Benchmark: volunteer service at province scale (issue 11).

On the workbench's province (10 000 branches, loaded first by bench/workbench.py):
300 000 volunteers, 2 000 000 confirmed hour entries (one volunteer with 5 000 of them),
the running totals those entries make, and 100 000 published activities of one shift
each, starting over the last eleven months and the next 30 days. Three pages are timed
against /healthz on the same gunicorn server:

- the public activity listing for one county (its upcoming activities: the next 30
  days), within 3x;
- "my service" for the volunteer with 5 000 entries, within 5x;
- the province's hours ranking for this year (province admin), within 5x.

Before timing, the totals are checked against the ledger: the sum of the running
totals equals the sum of the entries' minutes, exactly (integers, no float sums)."""

import random
import time
from datetime import timedelta

from bench.harness import Server, login_cookie
from bench.workbench import _after_explicit_ids, _insert, _measured, paired

VOLUNTEERS = 300_000
ENTRIES = 2_000_000
HEAVY_ENTRIES = 5_000  # the "my service" volunteer's
ACTIVITIES = 100_000
BATCH = 20_000
USER_ID_BASE = 1_000_000  # clear of the workbench's citizens
AREAS = ("first_aid", "disaster_relief", "elderly_care", "boai_home", "donation_promotion")
LISTING_TARGET, MY_SERVICE_TARGET, RANKING_TARGET = 3.0, 5.0, 5.0


def load(seed: int = 20261203) -> dict:
    """Bulk-insert volunteers, entries, totals and activities into the workbench's
    province. Returns what the measurements need."""
    from sqlalchemy import select

    from portal import crypto
    from portal.accounts.models import User
    from portal.branches.models import Branch
    from portal.extensions import db
    from portal.timeutil import to_local, utcnow
    from portal.volunteering.models import Volunteer
    from portal.volunteering.service_models import (
        ServiceHours,
        VolunteerActivity,
        VolunteerServiceArea,
        VolunteerServiceTotal,
        VolunteerServiceYear,
        VolunteerShift,
    )

    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    places = db.session.execute(
        select(Branch.id, Branch.level).where(Branch.level.in_(("county", "grassroots")))
    ).all()
    branch_ids = [b for b, _level in places]
    contact = crypto.encrypt(
        '{"name": "王淑兰", "relation": "母亲", "phone": "13700000000"}', "volunteer_emergency"
    )
    volunteer_branch = {}
    for start in range(0, VOLUNTEERS, BATCH):
        users, volunteers = [], []
        for i in range(start, min(start + BATCH, VOLUNTEERS)):
            vid = i + 1
            branch_id = rng.choice(branch_ids)
            volunteer_branch[vid] = branch_id
            users.append({"id": USER_ID_BASE + vid, "phone": f"16{vid:09d}", "created_at": now})
            volunteers.append(
                {
                    "id": vid,
                    "user_id": USER_ID_BASE + vid,
                    "branch_id": branch_id,
                    "number": f"ZY-BENCH-{vid:07d}",
                    "card_token": f"bench-card-{vid:012d}",
                    "status": "active",
                    "registered_at": now - timedelta(days=800),
                    "updated_at": now,
                    "service_areas": "first_aid",
                    "availability": "weekend_morning",
                    "emergency_contact_enc": contact,
                }
            )
        _insert(User, users)
        _insert(Volunteer, volunteers)

    totals: dict[int, int] = {}
    areas: dict[tuple[int, str], int] = {}
    years: dict[tuple[int, int], list] = {}  # (volunteer, year) -> [first_at, minutes]
    span = 60 * 24 * 700  # entries over the last 700 days, in minutes
    for start in range(0, ENTRIES, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, ENTRIES)):
            vid = 1 if i < HEAVY_ENTRIES else rng.randrange(2, VOLUNTEERS + 1)
            started = now - timedelta(minutes=rng.randrange(60, span))
            minutes = 15 * rng.randrange(4, 33)  # 1 to 8 hours, quarter hours
            confirmed = rng.random() < 0.95
            rows.append(
                {
                    "id": i + 1,
                    "volunteer_id": vid,
                    "branch_id": volunteer_branch[vid],
                    "service_area": AREAS[i % len(AREAS)],
                    "title": "应急救护志愿服务",
                    "started_at": started,
                    "minutes": minutes,
                    "status": "confirmed" if confirmed else "pending",
                    "confirmed_at": started + timedelta(days=1) if confirmed else None,
                }
            )
            if confirmed:
                totals[vid] = totals.get(vid, 0) + minutes
                area = AREAS[i % len(AREAS)]
                areas[(vid, area)] = areas.get((vid, area), 0) + minutes
                key = (vid, to_local(started).year)
                year = years.setdefault(key, [started, 0])
                year[0] = min(year[0], started)
                year[1] += minutes
        _insert(ServiceHours, rows)
    _insert_batched(
        VolunteerServiceTotal, [{"volunteer_id": v, "minutes": m} for v, m in totals.items()]
    )
    _insert_batched(
        VolunteerServiceArea,
        [{"volunteer_id": v, "service_area": a, "minutes": m} for (v, a), m in areas.items()],
    )
    _insert_batched(
        VolunteerServiceYear,
        [
            {
                "volunteer_id": v,
                "year": y,
                "branch_id": volunteer_branch[v],
                "first_at": first,
                "minutes": m,
            }
            for (v, y), (first, m) in years.items()
        ],
    )

    for start in range(0, ACTIVITIES, BATCH):
        activities, shifts = [], []
        for i in range(start, min(start + BATCH, ACTIVITIES)):
            begins = now + timedelta(minutes=rng.randrange(-60 * 24 * 335, 60 * 24 * 30))
            ends = begins + timedelta(hours=3)
            activities.append(
                {
                    "id": i + 1,
                    "branch_id": rng.choice(branch_ids),
                    "team_only": False,
                    "title": f"博爱家园志愿服务{i + 1}",
                    "description": "陪伴社区老人，测量血压。",
                    "service_area": AREAS[i % len(AREAS)],
                    "address": "宝鸡市渭滨区经二路街道办事处",
                    "signup_deadline": begins - timedelta(hours=12),
                    "contact_name": "王老师",
                    "contact_phone": "0917-3245678",
                    "status": "published",
                    "starts_at": begins,
                    "ends_at": ends,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            shifts.append(
                {
                    "id": i + 1,
                    "activity_id": i + 1,
                    "starts_at": begins,
                    "ends_at": ends,
                    "capacity": 20,
                    "seats_taken": 0,
                }
            )
        _insert(VolunteerActivity, activities)
        _insert(VolunteerShift, shifts)
    db.session.commit()
    _after_explicit_ids(
        ["users", "volunteers", "service_hours", "volunteer_activities", "volunteer_shifts"]
    )
    county = db.session.scalar(
        select(Branch.id).where(Branch.level == "county").order_by(Branch.id).limit(1)
    )
    return {"county": county, "volunteer_user": USER_ID_BASE + 1}


def _insert_batched(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        _insert(model, rows[start : start + BATCH])


def check_totals() -> str:
    """The running totals against the ledger, summed by the database as integers."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.volunteering.service_models import (
        ServiceHours,
        VolunteerServiceArea,
        VolunteerServiceTotal,
        VolunteerServiceYear,
    )

    ledger = db.session.scalar(
        select(func.sum(ServiceHours.minutes)).where(ServiceHours.status == "confirmed")
    )
    totals = db.session.scalar(select(func.sum(VolunteerServiceTotal.minutes)))
    by_area = db.session.scalar(select(func.sum(VolunteerServiceArea.minutes)))
    by_year = db.session.scalar(select(func.sum(VolunteerServiceYear.minutes)))
    if not isinstance(ledger, int) or not ledger == totals == by_area == by_year:
        raise SystemExit(f"totals differ from the ledger: {ledger} {totals} {by_area} {by_year}")
    return f"{ledger} confirmed minutes; totals, area and year totals equal to the ledger"


def run(env: dict[str, str], app, reuse: bool = False) -> list[dict]:
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        started = time.monotonic()
        if reuse:
            from sqlalchemy import select

            from portal.branches.models import Branch

            ids = {
                "county": db.session.scalar(
                    select(Branch.id).where(Branch.level == "county").order_by(Branch.id).limit(1)
                ),
                "volunteer_user": USER_ID_BASE + 1,
            }
        else:
            ids = load()
            print(
                f"loaded {VOLUNTEERS} volunteers, {ENTRIES} hour entries and {ACTIVITIES} "
                f"activities in {time.monotonic() - started:.0f} s"
            )
        print(check_totals())
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        volunteer = login_cookie(db.session.get(User, ids["volunteer_user"]), cookie_name)
        admin = login_cookie(db.session.get(User, 1), cookie_name)  # the province admin
        db.session.commit()
        db.engine.dispose()

    scale = f"{VOLUNTEERS} volunteers, {ENTRIES} entries, {ACTIVITIES} activities"
    with Server(env) as server:
        healthz = server.base + "/healthz"
        figures = [
            _measured(
                "service_healthz", "median latency GET /healthz (baseline)", healthz, None, "ok"
            )
        ]
        for name, figure, path, cookie, expect, target in [
            (
                "service_listing_county",
                f"median latency GET /volunteer/activities, one county, next 30 days ({scale})",
                f"/volunteer/activities?place={ids['county']}",
                None,
                "博爱家园志愿服务",
                LISTING_TARGET,
            ),
            (
                "service_my_service",
                f"median latency GET /volunteer/service, {HEAVY_ENTRIES} entries ({scale})",
                "/volunteer/service",
                volunteer,
                "<table>",
                MY_SERVICE_TARGET,
            ),
            (
                "service_ranking_province",
                f"median latency GET /admin/volunteering/hours, province admin ({scale})",
                "/admin/volunteering/hours",
                admin,
                "<tbody>",
                RANKING_TARGET,
            ),
        ]:
            figures.append(
                paired(name, figure, server.base + path, cookie, expect, healthz, target=target)
            )
    return figures


def main() -> int:
    """`python -m bench.service [--reuse]`: this benchmark alone, on a fresh database
    holding the workbench's province (BENCH_DATABASE, default boai_bench_service), or
    with --reuse on the one the previous run loaded."""
    import json
    import os
    import sys

    from bench.harness import (
        RESULTS,
        bench_environment,
        fresh_database,
        migrate,
        reuse_database,
    )
    from bench.run import _print_table

    reuse = "--reuse" in sys.argv[1:]
    database = reuse_database if reuse else fresh_database
    url, where = database(os.environ.get("BENCH_DATABASE", "boai_bench_service"))
    env = {**os.environ, **bench_environment(), "DATABASE_URL": url}
    os.environ.update(env)
    from portal import create_app

    app = create_app("production")
    print(f"database: {where}")
    if not reuse:
        for note in migrate(env):
            print(f"note: {note}")
        from bench import workbench

        with app.app_context():
            started = time.monotonic()
            workbench.load()
            print(f"loaded the workbench province in {time.monotonic() - started:.0f} s")
    figures = run(env, app, reuse=reuse)
    _print_table(figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "service.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n")
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
