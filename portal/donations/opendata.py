"""Open data: every entry of the ledger as one transaction list, in the spirit of
360Giving and IATI (incoming funds, allocations, expenditure), with stable field names
documented on /transparency/data. Anyone can rebuild every public total from it:
received = sum of "incoming", allocated = sum of "allocation", spent = sum of
"expenditure" (reversals are negative entries of the same type)."""

import csv
import io
import json
from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal.accounts.identity import mask_id_numbers_in_text
from portal.branches.models import Branch
from portal.donations.models import Allocation, Donation, Expense, Project
from portal.donations.money import fen_to_yuan_text
from portal.donations.public_query import Scope
from portal.extensions import db

INCOMING, ALLOCATION, EXPENDITURE = "incoming", "allocation", "expenditure"

# (field, what it means): the order of the CSV columns and of the documentation.
FIELDS = [
    ("id", _l("Stable id of the entry: donation-N, allocation-N or expense-N.")),
    (
        "transaction_type",
        _l(
            "incoming (a gift received), allocation (money given to a project) or expenditure (a project's spending)."
        ),
    ),
    ("date", _l("The day of the entry (YYYY-MM-DD, China time).")),
    ("amount", _l("Amount in yuan with two decimals; negative for a reversal.")),
    (
        "amount_fen",
        _l(
            "The same amount in fen (1/100 yuan), a whole number: add these to rebuild totals exactly."
        ),
    ),
    ("currency", _l("Always CNY.")),
    ("receipt_number", _l("The receipt number of a gift (JZ-...) or of a reversal (CZ-...).")),
    (
        "donor_label",
        _l("The donor as shown to the public: a masked name (王*), an organisation, or anonymous."),
    ),
    ("gift_kind", _l("money or goods (goods are counted at their stated value).")),
    ("channel", _l("How money arrived: bank, wechat, alipay, cash or online.")),
    ("project_id", _l("The project's id (empty for an unrestricted gift).")),
    ("project_code", _l("The project's code.")),
    ("project_title", _l("The project's Chinese title.")),
    ("branch_id", _l("The id of the branch that recorded the entry.")),
    ("branch_code", _l("The branch's administrative division code, where it has one.")),
    ("branch_name", _l("The branch's Chinese name.")),
    (
        "description",
        _l("For expenditure: the purpose and who benefited, as a group (never a person's name)."),
    ),
    ("reverses", _l("For a reversal: the id of the entry it cancels.")),
]
FIELD_NAMES = [name for name, _ in FIELDS]


def _base(branch_id, project_id, project: Project | None, branch: Branch):
    return {
        "currency": "CNY",
        "project_id": project_id or "",
        "project_code": project.code if project else "",
        "project_title": project.title_zh if project else "",
        "branch_id": branch_id,
        "branch_code": branch.code or "",
        "branch_name": branch.name_zh,
    }


def _money(fen: int) -> dict:
    return {"amount": fen_to_yuan_text(fen), "amount_fen": fen}


def transactions(scope: Scope) -> Iterator[dict]:
    """Every entry in the scope as a dict of FIELD_NAMES, by type then date."""
    yield from _incoming(scope)
    yield from _allocations(scope)
    yield from _expenses(scope)


def _rows(stmt):
    return db.session.execute(stmt.execution_options(yield_per=2000))


def _incoming(scope: Scope):
    p = aliased(Project)
    stmt = (
        select(Donation, Branch, p)
        .join(Branch, Branch.id == Donation.branch_id)
        .outerjoin(p, p.id == Donation.project_id)
        .where(*scope.where(Donation))
        .order_by(Donation.received_on, Donation.id)
    )
    for d, branch, project in _rows(stmt):
        yield {
            "id": f"donation-{d.id}",
            "transaction_type": INCOMING,
            "date": d.received_on.isoformat(),
            **_money(d.amount_fen),
            "receipt_number": d.receipt_number,
            "donor_label": d.public_label or "anonymous",
            "gift_kind": d.kind,
            "channel": d.channel or "",
            **_base(d.branch_id, d.project_id, project, branch),
            "description": "",
            "reverses": f"donation-{d.reverses_id}" if d.reverses_id else "",
        }


def _allocations(scope: Scope):
    stmt = (
        select(Allocation, Branch, Project)
        .join(Branch, Branch.id == Allocation.branch_id)
        .join(Project, Project.id == Allocation.project_id)
        .where(*scope.where(Allocation))
        .order_by(Allocation.allocated_on, Allocation.id)
    )
    for a, branch, project in _rows(stmt):
        yield {
            "id": f"allocation-{a.id}",
            "transaction_type": ALLOCATION,
            "date": a.allocated_on.isoformat(),
            **_money(a.amount_fen),
            "receipt_number": "",
            "donor_label": "",
            "gift_kind": "",
            "channel": "",
            **_base(a.branch_id, a.project_id, project, branch),
            "description": f"donation-{a.donation_id}",
            "reverses": f"allocation-{a.reverses_id}" if a.reverses_id else "",
        }


def _expenses(scope: Scope):
    stmt = (
        select(Expense, Branch, Project)
        .join(Branch, Branch.id == Expense.branch_id)
        .join(Project, Project.id == Expense.project_id)
        .where(*scope.where(Expense))
        .order_by(Expense.spent_on, Expense.id)
    )
    for e, branch, project in _rows(stmt):
        yield {
            "id": f"expense-{e.id}",
            "transaction_type": EXPENDITURE,
            "date": e.spent_on.isoformat(),
            **_money(e.amount_fen),
            "receipt_number": "",
            "donor_label": "",
            "gift_kind": "",
            "channel": "",
            **_base(e.branch_id, e.project_id, project, branch),
            "description": mask_id_numbers_in_text(f"{e.purpose} — {e.beneficiary}"),
            "reverses": f"expense-{e.reverses_id}" if e.reverses_id else "",
        }


def json_chunks(scope: Scope, about: dict) -> Iterator[str]:
    """The JSON document, a piece at a time (a province's ledger is large)."""
    head = {"fields": FIELD_NAMES, "currency": "CNY", **about}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "transactions": ['
    first = True
    for row in transactions(scope):
        yield ("" if first else ",\n") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "]}\n"


def csv_chunks(scope: Scope) -> Iterator[str]:
    """CSV (UTF-8 with BOM for Excel), a header line then one line per entry."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, FIELD_NAMES)
    buf.write("\ufeff")
    writer.writeheader()
    for i, row in enumerate(transactions(scope)):
        # Text a spreadsheet would run as a formula is prefixed, as in portal.exports.
        writer.writerow(
            {
                k: (
                    "'" + v
                    if isinstance(v, str) and v[:1] in "=+-@" and k not in ("amount",)
                    else v
                )
                for k, v in row.items()
            }
        )
        if i % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
