"""Bulk import of gifts (money and goods) from the finance system's CSV or XLSX export.

Every row is checked before anything is written; a dry run reports every bad row (with
its line number and what is wrong) and writes nothing, and a real import writes all rows
or none. A row whose channel and reference are in the ledger already (or earlier in the
same file) is refused, so importing the same export twice cannot count money twice.

Columns (a header row, Chinese or English names, any order):
date/日期, kind/类别 (money 款 or goods 物; money when empty), amount/金额 (for goods,
the valuation), channel/渠道, reference/凭证号, goods/物资名称, quantity/数量, unit/单位,
valuation_basis/估值依据, donor_kind/捐赠人类型, donor_name/捐赠人, phone/手机号,
credit_code/统一社会信用代码, project_code/项目代码, anonymous/匿名, note/备注."""

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import select
from stdnum.cn import uscc

from portal import audit
from portal.accounts.phone import InvalidPhone, normalise_phone
from portal.donations import ledger
from portal.donations.errors import LedgerError
from portal.donations.models import (
    CHANNELS,
    CLOSED,
    GOODS,
    MONEY,
    ORGANISATION,
    PERSON,
    TEXT_MAX,
    Donation,
    Project,
)
from portal.donations.money import BadAmount, parse_quantity, parse_yuan
from portal.extensions import db
from portal.textcheck import has_hidden_characters

MAX_ROWS = 2000
HEADERS = {
    "date": "date",
    "日期": "date",
    "kind": "kind",
    "类别": "kind",
    "捐赠类别": "kind",
    "goods": "goods",
    "物资名称": "goods",
    "物资": "goods",
    "quantity": "quantity",
    "数量": "quantity",
    "unit": "unit",
    "单位": "unit",
    "valuation_basis": "valuation_basis",
    "估值依据": "valuation_basis",
    "作价依据": "valuation_basis",
    "到账日期": "date",
    "amount": "amount",
    "金额": "amount",
    "channel": "channel",
    "渠道": "channel",
    "到账方式": "channel",
    "reference": "reference",
    "凭证号": "reference",
    "交易号": "reference",
    "donor_kind": "donor_kind",
    "捐赠人类型": "donor_kind",
    "donor_name": "donor_name",
    "捐赠人": "donor_name",
    "phone": "phone",
    "手机号": "phone",
    "credit_code": "credit_code",
    "统一社会信用代码": "credit_code",
    "project_code": "project_code",
    "项目代码": "project_code",
    "anonymous": "anonymous",
    "匿名": "anonymous",
    "note": "note",
    "备注": "note",
}
CHANNEL_WORDS = {
    **{c: c for c in CHANNELS},
    "银行转账": "bank",
    "银行": "bank",
    "微信支付": "wechat",
    "微信": "wechat",
    "支付宝": "alipay",
    "现金": "cash",
    "网络募捐平台": "online",
    "网络": "online",
}
KIND_WORDS = {
    "person": PERSON,
    "个人": PERSON,
    "organisation": ORGANISATION,
    "organization": ORGANISATION,
    "单位": ORGANISATION,
    "企业": ORGANISATION,
}
GIFT_WORDS = {
    "": MONEY,
    "money": MONEY,
    "款": MONEY,
    "资金": MONEY,
    "goods": GOODS,
    "物": GOODS,
    "物资": GOODS,
}
YES = {"1", "yes", "y", "true", "是", "匿名"}
NO = {"", "0", "no", "n", "false", "否"}


class ImportFileError(LedgerError):
    """The file as a whole cannot be read."""


@dataclass
class Row:
    line: int
    gift: ledger.Gift | None = None
    donor: ledger.Donor | None = None
    project: Project | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Report:
    rows: list[Row]

    @property
    def bad(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    @property
    def total_fen(self) -> int:
        return sum(r.gift.amount_fen for r in self.rows if r.gift and not r.errors)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = repr(value)  # 1234.56 stays "1234.56"; more decimals are refused later
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_table(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """(line number, {column: value}) for every non-empty row after the header."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            table = [list(r) for r in sheet.iter_rows(values_only=True)]
        except Exception:  # noqa: BLE001 - any unreadable workbook gets one message
            raise ImportFileError(_l("This XLSX file cannot be read.")) from None
    elif name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportFileError(_l("This CSV file is not UTF-8 or GB18030 text."))
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise ImportFileError(_l("Please upload a CSV or XLSX file."))
    if not table:
        raise ImportFileError(_l("The file is empty."))
    header = [HEADERS.get(_text(h).lower()) for h in table[0]]
    missing = {"date", "amount", "donor_name"} - set(header)
    if missing:
        raise ImportFileError(
            _l("The header row lacks the columns: %(names)s", names=", ".join(sorted(missing)))
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {key: cells[i] for i, key in enumerate(header) if key and i < len(cells)}
        if any(_text(v) for v in values.values()):
            rows.append((number, values))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_l("At most %(max)d rows can be imported at once.", max=MAX_ROWS))
    return rows


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value).replace("/", "-"))
    except ValueError:
        return None


def _money(texts: dict, err) -> tuple[str | None, str | None]:
    channel = CHANNEL_WORDS.get(texts.get("channel", "").lower())
    if channel is None:
        err(str(_l("Unknown channel: use bank, wechat, alipay, cash or online.")))
    reference = texts.get("reference") or None
    if reference and len(reference) > 60:
        err(str(_l("The reference is longer than 60 characters.")))
    return channel, reference


def _goods(texts: dict, err) -> dict:
    """A goods row's description, quantity, unit and valuation basis (the amount column
    holds the valuation), each within the ledger's column widths."""
    found = {
        "goods_description": texts.get("goods", ""),
        "goods_quantity": parse_quantity(texts.get("quantity")),
        "goods_unit": texts.get("unit", ""),
        "valuation_basis": texts.get("valuation_basis", ""),
    }
    if not found["goods_description"] or len(found["goods_description"]) > TEXT_MAX:
        err(str(_l("Please say what goods were given (at most 200 characters).")))
    if found["goods_quantity"] is None or len(found["goods_quantity"]) > 20:
        err(str(_l("Please type a quantity such as 200 or 1.5.")))
    if not found["goods_unit"] or len(found["goods_unit"]) > 10:
        err(str(_l("Please give the unit (at most 10 characters).")))
    if not found["valuation_basis"] or len(found["valuation_basis"]) > TEXT_MAX:
        err(str(_l("Please say how the value was set (at most 200 characters).")))
    return found


def _check(line: int, v: dict, projects: dict, seen: set, branch_ids: set) -> Row:
    row = Row(line)
    err = row.errors.append
    texts = {k: _text(x) for k, x in v.items()}
    if any(has_hidden_characters(t) for t in texts.values()):
        err(str(_l("Please remove the special characters.")))
    received_on = _date(v.get("date"))
    if received_on is None:
        err(str(_l("The date is not a date such as 2026-03-05.")))
    try:
        fen = parse_yuan(texts.get("amount"))
    except BadAmount as exc:
        fen = None
        err(str(exc.message))
    gift_kind = GIFT_WORDS.get(texts.get("kind", "").lower())
    channel = reference = None
    goods = {}
    if gift_kind is None:
        err(str(_l("Unknown kind of gift: use money or goods.")))
    elif gift_kind == MONEY:
        channel, reference = _money(texts, err)
    else:
        goods = _goods(texts, err)
    kind = KIND_WORDS.get(texts.get("donor_kind", "").lower() or "person")
    if kind is None:
        err(str(_l("Unknown donor type: use person or organisation.")))
    name = texts.get("donor_name", "")
    if not name or len(name) > 100:
        err(str(_l("The donor's name is missing or too long.")))
    phone = code = None
    if kind == PERSON and texts.get("phone"):
        try:
            phone = normalise_phone(texts["phone"])
        except InvalidPhone as exc:
            err(str(exc.message))
    if kind == ORGANISATION:
        try:
            code = uscc.validate(texts.get("credit_code", ""))
        except Exception:  # noqa: BLE001 - stdnum raises several kinds
            err(str(_l("This is not a valid unified social credit code.")))
    anonymous = texts.get("anonymous", "").lower()
    if anonymous not in YES | NO:
        err(str(_l("Anonymous must be yes or no.")))
    project = None
    project_code = texts.get("project_code", "").upper()
    if project_code:
        project = projects.get(project_code)
        if project is None or project.branch_id not in branch_ids:
            err(str(_l("No project with this code in your branches: %(code)s", code=project_code)))
        elif project.status == CLOSED:
            err(str(_l("This project is closed and takes no more gifts.")))
    note = texts.get("note") or None
    if note and len(note) > 200:
        err(str(_l("The note is longer than 200 characters.")))
    if reference and channel:
        if (channel, reference) in seen:
            err(str(_l("This channel reference appears twice in the file.")))
        seen.add((channel, reference))
    if not row.errors:
        row.gift = ledger.Gift(
            kind=gift_kind,
            amount_fen=fen,
            received_on=received_on,
            channel=channel,
            channel_ref=reference,
            note=note,
            **goods,
        )
        row.donor = ledger.Donor(
            kind=kind, name=name, phone=phone, uscc=code, anonymous=anonymous in YES
        )
        row.project = project
    return row


def check(filename: str, data: bytes, branch_ids: set[int]) -> Report:
    """Read and check every row; writes nothing. `branch_ids`: the branches whose
    projects a row may name (the staff member's scope)."""
    table = read_table(filename, data)
    codes = {_text(v.get("project_code")).upper() for _, v in table} - {""}
    projects = (
        {p.code: p for p in db.session.scalars(select(Project).where(Project.code.in_(codes)))}
        if codes
        else {}
    )
    seen: set = set()
    rows = [_check(line, v, projects, seen, branch_ids) for line, v in table]
    refs = {(r.gift.channel, r.gift.channel_ref) for r in rows if r.gift and r.gift.channel_ref}
    if refs:
        known = set(
            db.session.execute(
                select(Donation.channel, Donation.channel_ref).where(
                    Donation.channel_ref.in_([ref for _, ref in refs]),
                    Donation.reverses_id.is_(None),
                )
            ).tuples()
        )
        for r in rows:
            if r.gift and (r.gift.channel, r.gift.channel_ref) in known:
                r.errors.append(
                    str(_l("A gift with this channel reference is in the ledger already."))
                )
                r.gift = None
    return Report(rows)


def run(report: Report, branch, actor, actor_role: str, filename: str) -> list[Donation]:
    """Record every row of a clean report (refuses a report with bad rows)."""
    if report.bad or not report.rows:
        raise LedgerError(_l("Fix every bad row first: nothing has been imported."))
    made = [
        ledger.record(branch, r.project, r.gift, r.donor, actor, actor_role) for r in report.rows
    ]
    audit.record(
        "donations_imported",
        actor=actor,
        actor_role=actor_role,
        branch_id=branch.id,
        object_kind="branch",
        object_id=branch.id,
        changes={"rows": len(made), "amount_fen": report.total_fen, "file": filename[:100]},
    )
    return made
