"""Benchmark: what a visitor without a cookie costs. The home and login pages, fetched
with no Cookie header (every request is a first visit, so each one issues a CSRF token in
a fresh signed cookie), timed against /healthz on the same gunicorn server in the same
pairs as bench/workbench.py. A visitor's state lives in the signed cookie, so the pages
must write nothing: the run also checks that no session row appeared for a visitor."""

import statistics

from bench.harness import Server, fetch, measure

TARGET_RATIO = 3.0
ROUNDS, SECONDS, WARMUP = 5, 3, 1

PAGES = [
    # name, path, text the answer must hold (the page, not an error or a redirect)
    ("anonymous_home", "/", 'action="/care-mode"'),
    ("anonymous_login", "/account/login", 'name="password"'),
]


def run(env: dict[str, str], app) -> list[dict]:
    visitor_rows_before = _visitor_rows(app)
    with Server(env) as server:
        healthz = server.base + "/healthz"
        figures = [
            _paired(
                name,
                f"median latency GET {path}, no cookie (a first visit)",
                server.base + path,
                expect,
                healthz,
            )
            for name, path, expect in PAGES
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


def _paired(name: str, figure: str, url: str, expect: str, healthz_url: str) -> dict:
    """The page against /healthz in ROUNDS pairs, /healthz measured just before the page
    each time; the ratio is the median of the pairs' ratios (as bench/workbench.py)."""
    row = {
        "name": name,
        "figure": figure,
        "value": None,
        "unit": "ms",
        "baseline": None,
        "ratio": None,
        "target": TARGET_RATIO,
        "ok": False,
    }
    status, body = fetch(url)
    if status != 200 or expect not in body:
        row["note"] = f"answered {status}" + ("" if status != 200 else f" without {expect!r}")
        return row
    pairs = [
        (
            measure(healthz_url, None, SECONDS, warmup=WARMUP),
            measure(url, None, SECONDS, warmup=WARMUP),
        )
        for _ in range(ROUNDS)
    ]
    ratios = [page.median_ms / base.median_ms for base, page in pairs]
    errors = sum(page.errors + base.errors for base, page in pairs)
    row.update(
        value=round(statistics.median(page.median_ms for _, page in pairs), 2),
        baseline=round(statistics.median(base.median_ms for base, _ in pairs), 2),
        ratio=round(statistics.median(ratios), 2),
    )
    row["ok"] = errors == 0 and row["ratio"] <= TARGET_RATIO
    row["note"] = (
        f"{pairs[0][1].tool}, {ROUNDS} pairs with /healthz: ratios "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f"; {sum(page.requests for _, page in pairs)} requests, {errors} errors"
    )
    return row
