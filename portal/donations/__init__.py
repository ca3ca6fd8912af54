"""Donations (捐赠): projects, the ledger of gifts received, their allocation to projects,
what projects spent, the donor's trail and the public accounts with their open data.

Money arrives through the branch's own channels (bank, WeChat Pay, Alipay, cash, online
platforms) and staff record it here; nothing in this package takes a payment."""

from flask import Blueprint

# The public accounts, open data and the donor's trail.
bp = Blueprint("donations", __name__, url_prefix="/transparency")

# The staff ledger, allocations, expenses and month-end summaries.
staff_bp = Blueprint("donations_staff", __name__, url_prefix="/admin/donations")
