"""Benchmark: what a visitor without a cookie costs. The home and login pages, fetched
with no Cookie header (every request is a first visit, so each one issues a CSRF token in
a fresh signed cookie), timed against /healthz on the same gunicorn server in the same
pairs as bench/workbench.py (its `paired`). A visitor's state lives in the signed cookie, so the pages
must write nothing: the run also checks that no session row appeared for a visitor."""

from bench.harness import Server
from bench.workbench import paired

TARGET_RATIO = 3.0

PAGES = [
    # name, path, text the answer must hold (the page, not an error or a redirect)
    ("anonymous_home", "/", 'action="/care-mode"'),
    ("anonymous_login", "/account/login", 'name="password"'),
]


def run(env: dict[str, str], app, wanted=lambda name: True) -> list[dict]:
    visitor_rows_before = _visitor_rows(app)
    with Server(env) as server:
        healthz = server.base + "/healthz"
        figures = [
            paired(
                name,
                f"median latency GET {path}, no cookie (a first visit)",
                server.base + path,
                None,
                expect,
                healthz,
                target=TARGET_RATIO,
            )
            for name, path, expect in PAGES
            if wanted(name)
        ]
    written = _visitor_rows(app) - visitor_rows_before
    if written:
        for row in figures:
            row["ok"] = False
            row["note"] += f"; {written} session rows written for visitors (expected none)"
    return figures


def _visitor_rows(app) -> int:
    from sqlalchemy import func, select

    from portal.accounts.models import ServerSession
    from portal.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(ServerSession).where(ServerSession.user_id.is_(None))
        )
