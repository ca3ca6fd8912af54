"""The named permission helpers templates ask (can_review, can_audit, can_grant,
can_manage_tree, can_see_staff; bound to the logged-in user in portal/templating.py):
which action links and forms each kind of user sees on the branch page, the staff page,
the dashboard and an inbox item, through HTTP; and that asking costs no query."""

import pytest
from sqlalchemy import event

from portal.branches.home_branch import KIND, HomeBranchRequest
from portal.extensions import db

KINDS = ("citizen", "officer", "admin", "auditor", "national")


@pytest.fixture
def world(staff_world):
    return staff_world


@pytest.fixture
def page_as(app, login, world):
    """GET `url` as one kind of user: (status, html)."""

    def get(kind: str, url: str) -> tuple[int, str]:
        client = app.test_client()
        login(client, world.users[kind])
        response = client.get(url)
        return response.status_code, response.get_data(as_text=True)

    return get


# The branch page --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, staff_link, audit_link, tree_links",
    [
        ("officer", False, False, False),
        ("admin", True, True, False),
        ("auditor", True, True, False),
        ("national", True, True, True),
    ],
)
def test_branch_page_links(world, page_as, kind, staff_link, audit_link, tree_links):
    b = world.county.id
    status, html = page_as(kind, f"/admin/branches/{b}")
    assert status == 200
    assert (f'href="/admin/branches/{b}/staff"' in html) is staff_link
    assert (f'href="/admin/audit?branch={b}"' in html) is audit_link
    for action in ("new", "edit", "move", "close"):  # changing the tree: national admins only
        assert (f'href="/admin/branches/{b}/{action}"' in html) is tree_links


def test_citizen_gets_no_branch_page(world, page_as):
    status, html = page_as("citizen", f"/admin/branches/{world.county.id}")
    assert status == 403 and "/edit" not in html


def test_closed_branch_offers_reopen_to_national_admin_only(world, page_as):
    from portal.timeutil import utcnow

    world.county.closed_at = utcnow()
    db.session.commit()
    reopen = f'action="/admin/branches/{world.county.id}/reopen"'
    assert reopen in page_as("national", f"/admin/branches/{world.county.id}")[1]
    # A closed branch grants nothing, but the city admin still reaches it from the city.
    assert reopen not in page_as("admin", f"/admin/branches/{world.county.id}")[1]


# The staff page ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, where, status, grant_form",
    [
        ("citizen", "county", 403, False),
        ("officer", "county", 403, False),  # officers do not see staff lists
        ("auditor", "county", 200, False),  # auditors check the list, grant nothing
        ("auditor", "city", 200, False),
        ("admin", "county", 200, True),
        ("admin", "city", 200, True),  # officer/auditor at their own branch
        ("national", "city", 200, True),
    ],
)
def test_staff_page_grant_form_only_for_those_allowed(
    world, page_as, kind, where, status, grant_form
):
    b = getattr(world, where).id
    got, html = page_as(kind, f"/admin/branches/{b}/staff")
    assert got == status
    assert (f'action="/admin/branches/{b}/staff"' in html) is grant_form
    if status == 200:  # whoever may see the list may download it
        assert f"/admin/branches/{b}/staff/export?format=csv" in html


def test_branch_admin_is_offered_only_the_roles_they_may_grant(world, page_as):
    _, own = page_as("admin", f"/admin/branches/{world.city.id}/staff")
    _, below = page_as("admin", f"/admin/branches/{world.county.id}/staff")
    assert 'value="admin"' not in own  # nobody makes a peer of themselves
    assert 'value="officer"' in own and 'value="admin"' in below


# The dashboard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, inbox, audit",
    [
        ("officer", True, False),
        ("admin", True, True),
        ("auditor", False, True),
        ("national", True, True),
    ],
)
def test_dashboard_links(world, page_as, kind, inbox, audit):
    status, html = page_as(kind, "/admin/")
    assert status == 200
    assert ('href="/admin/inbox"' in html) is inbox
    assert ('href="/admin/audit"' in html) is audit
    assert ("/admin/inbox?kind=" in html) is inbox  # the pending counts, reviewers only


def test_citizen_gets_no_dashboard(world, page_as):
    assert page_as("citizen", "/admin/")[0] == 403


# An inbox item ----------------------------------------------------------------------


@pytest.fixture
def request_at_county(world, make_user):
    req = HomeBranchRequest(user_id=make_user().id, branch_id=world.county.id)
    db.session.add(req)
    db.session.commit()
    return req


@pytest.mark.parametrize(
    "kind, status, decide, history",
    [
        ("citizen", 403, False, False),
        ("auditor", 403, False, False),  # auditors do not review
        ("officer", 200, True, False),  # reviews, but reads no audit log
        ("admin", 200, True, True),
        ("national", 200, True, True),
    ],
)
def test_inbox_item_actions(page_as, request_at_county, kind, status, decide, history):
    url = f"/admin/inbox/{KIND}/{request_at_county.id}"
    got, html = page_as(kind, url)
    assert got == status
    assert (f'action="{url}/approve"' in html) is decide
    assert (f'action="{url}/reject"' in html) is decide
    history_link = f"/admin/audit?object_kind={KIND}&amp;object_id={request_at_county.id}"
    assert (history_link in html) is history


def test_history_link_opens_the_audit_log(page_as, request_at_county):
    url = f"/admin/audit?object_kind={KIND}&object_id={request_at_county.id}"
    assert page_as("admin", url)[0] == 200


def test_decided_item_offers_no_decision(page_as, request_at_county):
    request_at_county.status = "approved"
    db.session.commit()
    url = f"/admin/inbox/{KIND}/{request_at_county.id}"
    got, html = page_as("officer", url)
    assert got == 200 and f'action="{url}/approve"' not in html


# Cost -------------------------------------------------------------------------------


def test_helpers_read_the_request_memo_and_run_no_query(app, world):
    """Asked a hundred times per page, the helpers stay at the one grants read."""
    from flask import render_template_string
    from flask_login import login_user

    from portal.branches import scope

    user, county = world.users["national"], world.county
    assert county.path and county.closed_at is None  # loaded before counting
    template = (
        "{% for _ in range(100) %}{{ can_review(b) }}{{ can_review() }}{{ can_audit(b) }}"
        "{{ can_audit() }}{{ can_grant(b) }}{{ can_grant(b, 'officer') }}"
        "{{ can_see_staff(b) }}{{ can_manage_tree() }}{% endfor %}"
    )
    queries = []
    listener = lambda *args, **kw: queries.append(1)  # noqa: E731
    with app.test_request_context("/"):
        login_user(user)
        scope.active_grants(user)  # the one read of the request
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            html = render_template_string(template, b=county)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert queries == []
    assert "False" not in html and html.count("True") == 800


def test_helpers_say_no_to_anonymous_visitors(app, world):
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string(
            "{{ can_review() }}{{ can_audit(b) }}{{ can_grant(b) }}{{ can_see_staff(b) }}"
            "{{ can_manage_tree() }}",
            b=world.county,
        )
    assert html == "False" * 5
