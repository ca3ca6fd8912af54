"""Demo donations in Baoji and Gansu: the programmes the plans name (红十字博爱家园,
红十字天使计划, 红十字博爱送万家) and the 积石山 earthquake appeal, with gifts of money and
goods from people (one anonymous, one the demo citizen 李建国) and companies, allocations,
and expenses with a photo. Dates run back from today so the month charts fill.
Idempotent: skipped once the first demo project exists, or when the branches or staff
are missing."""

import struct
import zlib
from datetime import timedelta

from sqlalchemy import select

from portal.demo.workbench import _by_code, _reviewer
from portal.donations import evidence, ledger, spending
from portal.donations.models import GOODS, MONEY, ORGANISATION, PERSON, Project
from portal.donations.money import parse_yuan
from portal.extensions import db
from portal.timeutil import today_local

# fmt: off
# (code, branch code, title zh, title en, description zh, start (days ago), status, target yuan)
PROJECTS = [
    ("BAJY-610302-2026", "610302", "红十字博爱家园·经二路社区", "Boai Home: Jing'er Road community",
     "建设社区防灾减灾宣传阵地，配备应急物资，开展应急救护培训，提升社区韧性。", 200, "running", 300000),
    ("TSJH-610300-2026", "610300", "红十字天使计划·儿童大病救助", "Red Cross Angel Plan: children with serious illness",
     "救助患白血病、先天性心脏病等重大疾病的困难家庭儿童。", 180, "fundraising", 500000),
    ("BASWJ-610300-2026", "610300", "红十字博爱送万家·新春慰问", "Boai Warmth for Ten Thousand Homes: New Year visits",
     "元旦春节期间为城乡困难群众送去米面油、棉被等慰问物资。", 150, "running", 200000),
    ("JSS-620000-2023", "620000", "甘肃积石山6.2级地震救灾", "Jishishan (Gansu) M6.2 earthquake relief",
     "为积石山地震受灾群众提供帐篷、棉被、取暖物资和过渡安置支持。", 120, "running", 1000000),
]
# (branch code, project code or None, days ago, yuan, channel, donor kind, name, phone, uscc, anonymous)
GIFTS = [
    ("610302", "BAJY-610302-2026", 170, "2000", "wechat", PERSON, "王建华", "13900000301", None, False),
    ("610302", "BAJY-610302-2026", 140, "500", "alipay", PERSON, "李建国", "13900000002", None, False),
    ("610302", None, 130, "1,000", "cash", PERSON, "张秀兰", None, None, True),
    ("610302", None, 100, "30,000", "bank", ORGANISATION, "宝鸡金台精密机械有限公司", None, "91610300MA6X5G7J3G", False),
    ("610302", "BAJY-610302-2026", 60, "200", "wechat", PERSON, "赵敏", "13900000302", None, False),
    ("610300", "TSJH-610300-2026", 160, "50,000", "bank", ORGANISATION, "宝鸡市渭滨区爱心商会", None, "51610302MJX000001T", False),
    ("610300", "TSJH-610300-2026", 90, "888.88", "online", PERSON, "刘洋", "13900000303", None, False),
    ("610300", "TSJH-610300-2026", 45, "100", "wechat", PERSON, "陈静", None, None, True),
    ("610300", None, 120, "5,000", "bank", PERSON, "周国强", "13900000304", None, False),
    ("610300", "BASWJ-610300-2026", 110, "20,000", "bank", ORGANISATION, "陕西宝鸡某商贸有限公司", None, "91610302MA6XA1B2CR", False),
    ("620000", "JSS-620000-2023", 115, "100,000", "bank", ORGANISATION, "兰州某能源集团有限公司", None, "12610300435201234E", False),
    ("620000", "JSS-620000-2023", 112, "300", "alipay", PERSON, "马丽", "13900000305", None, False),
    ("620000", "JSS-620000-2023", 20, "1,500", "wechat", PERSON, "李建国", "13900000002", None, False),
]
# (project code, days ago, yuan, purpose, beneficiary group)
EXPENSES = [
    ("BAJY-610302-2026", 120, "1,800", "采购社区应急救护箱和灭火毯", "经二路社区8个居民小区"),
    ("BAJY-610302-2026", 30, "6,000", "社区应急救护培训（2期）", "社区居民120人次"),
    ("TSJH-610300-2026", 70, "30,000", "白血病患儿医疗救助金", "3户困难家庭，陇县、麟游县"),
    ("BASWJ-610300-2026", 100, "12,000", "春节慰问物资：米、面、油", "60户困难家庭，陈仓区"),
    ("JSS-620000-2023", 110, "60,000", "棉帐篷和棉被", "受灾群众安置点4处，积石山县"),
]
# fmt: on


def _png() -> bytes:
    """A small valid PNG (a red cross on white), standing in for a photo."""
    size = 16
    rows = []
    for y in range(size):
        row = b"\x00"
        for x in range(size):
            red = 6 <= x <= 9 or 6 <= y <= 9
            row += b"\xc8\x10\x2e" if red else b"\xff\xff\xff"
        rows.append(row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _staff(branch):
    return _reviewer(branch) or (branch.parent and _reviewer(branch.parent))


def load() -> list[str]:
    if db.session.scalar(select(Project.id).where(Project.code == PROJECTS[0][0])):
        return []
    today = today_local()
    projects = {}
    for code, bcode, title_zh, title_en, desc, ago, status, target in PROJECTS:
        branch = _by_code(bcode)
        if branch is None or _staff(branch) is None:
            continue
        project = Project(
            code=code,
            branch_id=branch.id,
            title_zh=title_zh,
            title_en=title_en,
            description_zh=desc,
            description_en="",
            starts_on=today - timedelta(ago),
            status=status,
            target_fen=target * 100,
        )
        db.session.add(project)
        projects[code] = project
    db.session.flush()
    gifts = 0
    for bcode, pcode, ago, yuan, channel, kind, name, phone, code, anonymous in GIFTS:
        branch = _by_code(bcode)
        if branch is None or (pcode and pcode not in projects):
            continue
        gift = ledger.Gift(
            kind=MONEY,
            amount_fen=parse_yuan(yuan),
            received_on=today - timedelta(ago),
            channel=channel,
            channel_ref=f"DEMO{ago:04d}",
        )
        donor = ledger.Donor(kind=kind, name=name, phone=phone, uscc=code, anonymous=anonymous)
        ledger.record(branch, projects.get(pcode), gift, donor, _staff(branch), "officer")
        gifts += 1
    weibin = _by_code("610302")
    if "BASWJ-610300-2026" in projects:
        goods = ledger.Gift(
            kind=GOODS,
            amount_fen=1_200_000,
            received_on=today - timedelta(105),
            goods_description="棉被",
            goods_quantity="200",
            goods_unit="床",
            valuation_basis="供货发票单价60元",
        )
        donor = ledger.Donor(
            kind=ORGANISATION, name="宝鸡金台精密机械有限公司", uscc="91610300MA6X5G7J3G"
        )
        project = projects["BASWJ-610300-2026"]
        ledger.record(project.branch, project, goods, donor, _staff(project.branch), "officer")
        gifts += 1
    if weibin is not None and "BAJY-610302-2026" in projects:
        spending.allocate_from_pool(
            weibin,
            projects["BAJY-610302-2026"],
            2_500_000,
            today - timedelta(95),
            _staff(weibin),
            "officer",
        )
    photo = _png()
    for pcode, ago, yuan, purpose, beneficiary in EXPENSES:
        project = projects.get(pcode)
        if project is None:
            continue
        staff = _staff(project.branch)
        expense = spending.record_expense(
            project,
            today - timedelta(ago),
            parse_yuan(yuan),
            purpose,
            beneficiary,
            staff,
            "officer",
        )
        evidence.store(expense, "photo", f"{purpose[:10]}.png", photo, staff)
    db.session.flush()
    return [f"donations  {len(projects)} projects, {gifts} demo gifts"] if projects else []
