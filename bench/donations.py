"""Benchmark: the public accounts and the donor's trail over a province's ledger.

On top of the workbench's province (10 000 branches), bulk-loads DONATIONS gifts,
ALLOCATIONS allocations and EXPENSES expenses over two years: gifts recorded by the
province, its cities and counties (where the money arrives), a share of them restricted
to one of PROJECTS projects; every project spends less than it was given. The tallies
are then rebuilt from the entries once, as `flask donations rebuild-tallies` would after
a bulk load. The society page, a county page and a project page are timed against
/healthz (target 3x), and a donor's trail page (signed in as the donor) too (target 2x)."""

import random
import time
from datetime import date, timedelta

from bench.harness import Server, login_cookie
from bench.workbench import _after_explicit_ids, _insert, paired

PAGE_TARGET, TRAIL_TARGET = 3.0, 2.0
DONATIONS, ALLOCATIONS, EXPENSES, PROJECTS = 1_000_000, 50_000, 200_000, 1_000
RESTRICTED = ALLOCATIONS - 5_000  # each restricted gift has its allocation
BATCH = 20_000
CHANNELS = ("bank", "wechat", "alipay", "cash", "online")
DONOR_USER = 9_000_001  # a citizen who gave; their trail is measured


def load(seed: int = 20261203) -> dict:
    """Bulk-insert projects, gifts, allocations and expenses; returns the ids to measure."""
    from sqlalchemy import select, text

    from portal.accounts.models import User
    from portal.branches.models import Branch
    from portal.donations import tallies
    from portal.donations.models import Allocation, Donation, Expense, Project
    from portal.extensions import db
    from portal.timeutil import utcnow

    rng = random.Random(seed)
    now = utcnow()
    today = date.today()
    receiving = [
        (b.id, b.path)
        for b in db.session.execute(
            select(Branch.id, Branch.path).where(Branch.level.in_(("province", "city", "county")))
        )
    ]
    counties = [(bid, path) for bid, path in receiving if path.count("/") == 5]
    projects = []
    for i in range(PROJECTS):
        bid, _path = counties[i % len(counties)] if i % 10 else rng.choice(receiving)
        projects.append(
            {
                "id": i + 1,
                "code": f"BENCH-{i + 1:05d}",
                "branch_id": bid,
                "title_zh": f"红十字博爱家园第{i + 1}号",
                "title_en": f"Boai Home {i + 1}",
                "description_zh": "社区防灾减灾与应急救护",
                "description_en": "",
                "starts_on": today - timedelta(days=rng.randrange(730)),
                "status": "running",
                "received_fen": 0,
                "allocated_fen": 0,
                "spent_fen": 0,
                "created_at": now,
            }
        )
    _insert(Project, projects)
    db.session.add(User(id=DONOR_USER, phone="13700009001", created_at=now, phone_verified_at=now))
    db.session.flush()

    allocated = [0] * (PROJECTS + 1)
    allocation_rows, allocation_id = [], 0
    donor_gift = None
    for start in range(0, DONATIONS, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, DONATIONS)):
            gift_id = i + 1
            amount = rng.randrange(1_000, 100_000)
            restricted = i < RESTRICTED
            if i < RESTRICTED:
                project = projects[i % PROJECTS]
                branch_id, project_id = project["branch_id"], project["id"]
            else:
                branch_id, project_id = rng.choice(receiving)[0], None
                restricted = False
            on = today - timedelta(days=rng.randrange(730))
            rows.append(
                {
                    "id": gift_id,
                    "receipt_number": f"JZ-BENCH-{gift_id:08d}",
                    "verify_token": f"bench-{gift_id}",
                    "branch_id": branch_id,
                    "project_id": project_id,
                    "kind": "money",
                    "amount_fen": amount,
                    "allocated_fen": amount if restricted else 0,
                    "channel": rng.choice(CHANNELS),
                    "donor_kind": "person",
                    "donor_user_id": DONOR_USER if i == 7 else None,
                    "anonymous": i % 7 == 0,
                    "public_label": "" if i % 7 == 0 else "王*",
                    "received_on": on,
                    "recorded_at": now - timedelta(days=rng.randrange(730)),
                }
            )
            if restricted:
                allocation_id += 1
                allocation_rows.append(
                    {
                        "id": allocation_id,
                        "donation_id": gift_id,
                        "project_id": project_id,
                        "branch_id": branch_id,
                        "amount_fen": amount,
                        "allocated_on": on,
                        "allocated_at": now,
                    }
                )
                allocated[project_id] += amount
            if i == 7:
                donor_gift = gift_id
        _insert(Donation, rows)
    # The last 5 000 allocations: from unrestricted gifts to a project of their branch.
    by_branch = {}
    for p in projects:
        by_branch.setdefault(p["branch_id"], []).append(p["id"])
    unrestricted = db.session.execute(
        select(Donation.id, Donation.branch_id, Donation.amount_fen, Donation.received_on)
        .where(Donation.project_id.is_(None), Donation.branch_id.in_(list(by_branch)))
        .order_by(Donation.id)
        .limit(ALLOCATIONS - allocation_id)
    ).all()
    for gift_id, branch_id, amount, on in unrestricted:
        allocation_id += 1
        project_id = by_branch[branch_id][gift_id % len(by_branch[branch_id])]
        allocation_rows.append(
            {
                "id": allocation_id,
                "donation_id": gift_id,
                "project_id": project_id,
                "branch_id": branch_id,
                "amount_fen": amount,
                "allocated_on": on,
                "allocated_at": now,
            }
        )
        allocated[project_id] += amount
    for start in range(0, len(allocation_rows), BATCH):
        _insert(Allocation, allocation_rows[start : start + BATCH])
    db.session.execute(
        text(
            "UPDATE donations SET allocated_fen = amount_fen WHERE id IN "
            "(SELECT donation_id FROM donation_allocations) AND project_id IS NULL"
        )
    )

    spent = [0] * (PROJECTS + 1)
    per_project = EXPENSES // PROJECTS
    expense_rows = []
    for p in projects:
        each = allocated[p["id"]] * 8 // 10 // per_project
        for k in range(per_project):
            expense_rows.append(
                {
                    "id": len(expense_rows) + 1,
                    "project_id": p["id"],
                    "branch_id": p["branch_id"],
                    "spent_on": today - timedelta(days=rng.randrange(700)),
                    "amount_fen": each,
                    "purpose": "应急物资采购",
                    "beneficiary": f"{k % 40 + 3}户困难家庭",
                    "recorded_at": now,
                }
            )
            spent[p["id"]] += each
    for start in range(0, len(expense_rows), BATCH):
        _insert(Expense, expense_rows[start : start + BATCH])
    db.session.execute(
        text(
            "UPDATE donation_projects p SET received_fen = COALESCE((SELECT sum(amount_fen) FROM "
            "donations d WHERE d.project_id = p.id), 0), allocated_fen = COALESCE((SELECT "
            "sum(amount_fen) FROM donation_allocations a WHERE a.project_id = p.id), 0), "
            "spent_fen = COALESCE((SELECT sum(amount_fen) FROM donation_expenses e WHERE "
            "e.project_id = p.id), 0)"
        )
    )
    rows = tallies.rebuild()
    db.session.commit()
    _after_explicit_ids(
        ["donation_projects", "donations", "donation_allocations", "donation_expenses"]
    )
    county_id = counties[0][0]
    return {"county": county_id, "project": projects[1]["id"], "gift": donor_gift, "tallies": rows}


def run(env: dict[str, str], app, reuse: bool = False) -> list[dict]:
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.donations.models import Donation, Project
    from portal.extensions import db

    with app.app_context():
        started = time.monotonic()
        if reuse and db.session.scalar(select(Donation.id).limit(1)):
            ids = {
                "county": db.session.scalar(select(Project.branch_id).where(Project.id == 2)),
                "project": 2,
                "gift": db.session.scalar(
                    select(Donation.id).where(Donation.donor_user_id == DONOR_USER)
                ),
            }
        else:
            ids = load()
            print(
                f"loaded {DONATIONS} gifts, {ALLOCATIONS} allocations, {EXPENSES} expenses "
                f"({ids['tallies']} tally rows) in {time.monotonic() - started:.0f} s"
            )
        donor = login_cookie(db.session.get(User, DONOR_USER), app.config["SESSION_COOKIE_NAME"])
        db.session.commit()
        db.engine.dispose()

    scale = f"{DONATIONS} gifts, {EXPENSES} expenses"
    pages = [
        ("donations_society", "/transparency/", None, "chart", PAGE_TARGET),
        ("donations_county", f"/transparency/branch/{ids['county']}", None, "chart", PAGE_TARGET),
        (
            "donations_project",
            f"/transparency/project/{ids['project']}",
            None,
            "money-facts",
            PAGE_TARGET,
        ),
        ("donations_trail", f"/transparency/trail/{ids['gift']}", donor, "JZ-BENCH-", TRAIL_TARGET),
    ]
    with Server(env) as server:
        healthz = server.base + "/healthz"
        return [
            paired(
                name,
                f"median latency GET {path} ({scale})",
                server.base + path,
                cookie,
                expect,
                healthz,
                target=target,
            )
            for name, path, cookie, expect, target in pages
        ]
