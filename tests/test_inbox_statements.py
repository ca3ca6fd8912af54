"""What one inbox page costs in SQL statements, counted on the engine, so that a change
which adds a round trip to the busiest staff page fails here rather than only in the
benchmark (bench/README.md).

A page reads: the session (with the user and their grants), the page's labels (the
pending tallies and the branch filter's choices, in one statement), the page's
(kind, id) keys across every registered kind (one statement whatever the number of
kinds), and the cards of each kind that has items on the page. Then the read-only
transaction ends with COMMIT, which is not a statement."""

import os
import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.review import kinds as review_kinds
from portal.review.inbox import PAGE_SIZE
from portal.timeutil import utcnow
from tests.conftest import statements_run, transaction_ends
from tests.test_review_separation import required_fields

# The session read, the page's labels, the page's keys.
FIXED = 3
KINDS = [kind.key for kind in review_kinds.kinds()]
_AGES = iter(range(1, 1_000_000))


@pytest.fixture
def pending(app, make_user):
    """`n` pending items of kind `key` at `branch`, each from a citizen of its own, the
    first made the oldest."""

    def make(key, branch, n=1):
        kind = review_kinds.get_kind(key)
        items = []
        for _ in range(n):
            when = utcnow() - timedelta(minutes=10_000 - next(_AGES))
            applicant = make_user()
            item = kind.model(
                user_id=applicant.id,
                branch_id=branch.id,
                created_at=when,
                submitted_at=when,
                **required_fields(key, applicant, branch),
            )
            db.session.add(item)
            items.append(item)
        db.session.commit()
        return items

    return make


@pytest.fixture
def reviewer(make_user, grant_role, client, login):
    """Logs `client` in as a reviewer holding `role` at `branch` (English pages)."""

    def make(branch, role="officer"):
        login(client, grant_role(make_user(locale="en"), branch, role))
        client.get("/admin/inbox")  # the first page after logging in may touch the session row

    return make


def statements(client, url: str) -> list[str]:
    with statements_run() as seen, transaction_ends() as ends:
        response = client.get(url)
    assert response.status_code == 200
    # Seen as reads, so the request ends in COMMIT and PostgreSQL keeps them prepared.
    assert ends == ["commit"]
    return seen


def items_on(page: str) -> int:
    return page.count('name="item"')


def test_an_empty_inbox_costs_the_fixed_statements_only(tree, reviewer, client):
    reviewer(tree.x)
    assert len(statements(client, "/admin/inbox")) == FIXED


@pytest.mark.parametrize("key", KINDS)
@pytest.mark.parametrize("holder, role", [("a", "officer"), ("p", "admin"), ("n", "admin")])
def test_a_full_page_of_one_kind_adds_one_cards_read(
    tree, pending, reviewer, client, key, holder, role
):
    pending(key, tree.g, PAGE_SIZE + 1)
    reviewer(getattr(tree, holder), role)
    assert items_on(client.get("/admin/inbox").get_data(as_text=True)) == PAGE_SIZE
    assert len(statements(client, "/admin/inbox")) == FIXED + 1
    assert len(statements(client, "/admin/inbox?page=2")) == FIXED + 1
    assert len(statements(client, f"/admin/inbox?kind={key}")) == FIXED + 1


def test_each_kind_on_the_page_adds_its_own_cards_read(tree, pending, reviewer, client):
    for key in KINDS:
        pending(key, tree.a, 2)
    reviewer(tree.c, "admin")
    assert items_on(client.get("/admin/inbox").get_data(as_text=True)) == 2 * len(KINDS)
    assert len(statements(client, "/admin/inbox")) == FIXED + len(KINDS)


def test_kinds_with_nothing_on_the_page_cost_nothing_more(tree, pending, reviewer, client):
    """Only the first kind has items on page 1; every other kind's items are newer and
    start on page 2. Their cards are not read for page 1."""
    first, *others = KINDS
    pending(first, tree.a, PAGE_SIZE)
    for key in others:
        pending(key, tree.a, 1)
    reviewer(tree.a)
    assert len(statements(client, "/admin/inbox")) == FIXED + 1
    assert len(statements(client, "/admin/inbox?page=2")) == FIXED + len(others)


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="generic plans are PostgreSQL's (SQLite binds the scope paths)",
)
def test_the_values_the_planner_weighs_are_in_the_sql_text(tree, pending, reviewer, client):
    """psycopg prepares a statement on its sixth run on a connection, and PostgreSQL may
    then settle on one generic plan, made without the parameters' values. Over the
    bench's data it never did for the labels statement while its id lists were bound
    (custom-planned on every request: 0 generic plans in 55) and seldom for the keys
    statement while its limits were (3 in 25). So the scope paths, the limits and the
    labels' id lists are written into the text: the only parameters left are each kind's
    key in the select list of the keys statement, and the ids of the cards."""
    pending(KINDS[0], tree.g, PAGE_SIZE + 1)
    reviewer(tree.p, "admin")
    _session, labels, keys, _cards = statements(client, "/admin/inbox?page=2")
    assert re.findall(r"%\(\w+\)s", labels) == []
    bound = re.findall(r"%\(\w+\)s[^,]*", keys)
    assert len(bound) == len(KINDS) and all(b.endswith(" AS kind") for b in bound), bound
    assert f"LIMIT {PAGE_SIZE + 1} OFFSET {PAGE_SIZE}" in keys
