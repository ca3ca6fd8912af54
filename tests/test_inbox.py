"""The staff inbox over HTTP: scope, filters, order, paging, item pages, decisions,
bulk approve, exports and the permission matrix."""

import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.branches.home_branch import KIND, HomeBranchRequest
from portal.branches.services import move_branch
from portal.extensions import db
from portal.notifications.models import Notification
from portal.review import kinds as review_kinds
from portal.review.inbox import PAGE_SIZE
from portal.review.kinds import ReviewKind, card_select, register_kind
from portal.timeutil import utcnow
from tests.conftest import (
    DEFAULT_PASSWORD,
    add_profile,
    no_sideways_scroll,
    statements_run,
    transaction_ends,
)

_SEQ = iter(range(1_000_000))


@pytest.fixture
def staff(make_user, grant_role):
    # English pages, so the assertions below hold whatever the Chinese catalogue says.
    def make(branch, role="officer"):
        return grant_role(make_user(locale="en"), branch, role)

    return make


@pytest.fixture
def pending(app):
    """A pending request from a fresh citizen (no password: faster) to `branch`."""

    def make(branch, age=timedelta(0), **fields):
        citizen = User(phone=f"137{next(_SEQ):08d}")
        db.session.add(citizen)
        db.session.flush()
        when = utcnow() - age
        req = HomeBranchRequest(
            user_id=citizen.id, branch_id=branch.id, created_at=when, submitted_at=when, **fields
        )
        db.session.add(req)
        db.session.commit()
        return req

    return make


def keys(page: str) -> list[str]:
    return re.findall(r'name="item" value="([^"]+)"', page)


def key(req) -> str:
    return f"{KIND}:{req.id}"


def status_of(req) -> str:
    db.session.expire_all()
    return db.session.get(HomeBranchRequest, req.id).status


def decisions() -> int:
    return len(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(["review_approved", "review_rejected"]))
        ).all()
    )


def texts() -> int:
    return len(
        db.session.scalars(select(Notification).where(Notification.kind == "review_decision")).all()
    )


@pytest.fixture
def spread(tree, pending):
    """One pending item at each interesting branch."""
    return SimpleNamespace(**{k: pending(getattr(tree, k)) for k in ("a", "g", "b", "c", "x")})


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "holder, role, visible",
    [
        ("a", "officer", {"a", "g"}),  # county officer: only their county (and below)
        ("b", "officer", {"b"}),
        ("c", "admin", {"a", "g", "b", "c"}),  # city admin: all its counties
        ("n", "admin", {"a", "g", "b", "c", "x"}),  # national admin: everything
        ("p2", "officer", {"x"}),
    ],
)
def test_inbox_is_scoped(tree, spread, staff, client, login, holder, role, visible):
    login(client, staff(getattr(tree, holder), role))
    response = client.get("/admin/inbox")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert set(keys(page)) == {key(getattr(spread, k)) for k in visible}
    assert f'data-kind="{KIND}">{len(visible)}<' in page


def test_cards_say_who_asks_for_what_with_the_number_masked(tree, staff, pending, client, login):
    join = pending(tree.a)
    move = pending(tree.a, from_branch_id=tree.b.id)
    add_profile(move.user, "王秀兰")
    login(client, staff(tree.a))
    page = client.get("/admin/inbox").get_data(as_text=True)
    joiner, mover = join.user.phone, move.user.phone
    assert f"{joiner[:3]}****{joiner[-4:]} asks for {tree.a.name_en} as their branch" in page
    assert (
        f"王秀兰 ({mover[:3]}****{mover[-4:]}) asks to move from {tree.b.name_en} "
        f"to {tree.a.name_en}"
    ) in page
    assert joiner not in page and mover not in page


def test_counts_add_up_over_several_branches(app, tree, spread, staff, grant_role, client, login):
    """Roles at two counties (and a redundant one below them): the badge counts both
    counties once each; a branch filter inside the scope counts that branch's subtree."""

    officer = grant_role(staff(tree.a), tree.b, "officer")
    grant_role(officer, tree.g, "admin")
    login(client, officer)
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert f'data-kind="{KIND}">3<' in page  # a, g (below a) and b

    page = client.get(f"/admin/inbox?branch={tree.a.id}").get_data(as_text=True)
    assert f'data-kind="{KIND}">2<' in page


def test_an_item_the_tallies_do_not_count_is_still_listed(tree, staff, make_user, client, login):
    """The tallies only label: an application written behind the ORM's back (plain SQL,
    so no tally moved) is in the inbox all the same."""
    applicant = make_user()
    db.session.execute(
        text(
            "INSERT INTO home_branch_requests (user_id, branch_id, branch_path, status, "
            "created_at, submitted_at) VALUES (:u, :b, :p, 'pending', :now, :now)"
        ),
        {"u": applicant.id, "b": tree.a.id, "p": tree.a.path, "now": utcnow()},
    )
    db.session.commit()
    item_id = db.session.scalar(text("SELECT max(id) FROM home_branch_requests"))
    login(client, staff(tree.a))
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert keys(page) == [f"{KIND}:{item_id}"]
    assert f'data-kind="{KIND}">0<' in page  # the label is wrong until check-tallies runs


@pytest.mark.parametrize("role", ["auditor", None])
def test_auditors_and_citizens_get_403_and_see_nothing(
    tree, spread, staff, make_user, client, login, role
):
    login(client, staff(tree.n, role) if role else make_user())
    for url in ("/admin/inbox", f"/admin/inbox/{KIND}/{spread.a.id}", "/admin/inbox?format=csv"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/inbox/{KIND}/{spread.a.id}/approve").status_code == 403
    assert client.post("/admin/inbox/bulk", data={"item": key(spread.a)}).status_code == 403
    assert status_of(spread.a) == "pending" and decisions() == 0


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/inbox")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_decided_and_withdrawn_items_are_not_listed(tree, pending, staff, client, login):
    waiting = pending(tree.a)
    pending(tree.a, status="approved")
    pending(tree.a, status="rejected", decision_reason="x")
    pending(tree.a, status="withdrawn")
    login(client, staff(tree.a))
    assert keys(client.get("/admin/inbox").get_data(as_text=True)) == [key(waiting)]


# --- order, filters, paging -----------------------------------------------------------------


def test_oldest_first_with_the_age_shown(tree, pending, staff, client, login):
    new = pending(tree.a, age=timedelta(hours=1))
    old = pending(tree.a, age=timedelta(days=3, hours=2))
    mid = pending(tree.g, age=timedelta(days=1, hours=1))
    login(client, staff(tree.a))
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert keys(page) == [key(old), key(mid), key(new)]
    assert "Waiting 3 days" in page and "Waiting 1 hour" in page


def test_filter_by_branch_gives_its_subtree(tree, spread, staff, client, login):
    login(client, staff(tree.c, "admin"))
    page = client.get(f"/admin/inbox?branch={tree.a.id}").get_data(as_text=True)
    assert set(keys(page)) == {key(spread.a), key(spread.g)}
    page = client.get(f"/admin/inbox?branch={tree.b.id}&kind={KIND}").get_data(as_text=True)
    assert keys(page) == [key(spread.b)]
    # The branch select lists the role branch and its direct children.
    assert f'<option value="{tree.a.id}"' in page and f'<option value="{tree.g.id}"' not in page
    # Grassroots units are not listed; each card links to its own branch's filter instead.
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert f'href="/admin/inbox?branch={tree.g.id}"' in page
    assert f'href="/admin/inbox/{KIND}/{spread.g.id}"' in page  # each card opens its item
    page = client.get(f"/admin/inbox?kind={KIND}").get_data(as_text=True)
    assert f'href="/admin/inbox?branch={tree.a.id}&amp;kind={KIND}"' in page
    # A deeper branch given by id is selectable too.
    page = client.get(f"/admin/inbox?branch={tree.g.id}").get_data(as_text=True)
    assert keys(page) == [key(spread.g)]
    assert f'<option value="{tree.g.id}" selected' in page


@pytest.mark.parametrize(
    "query",
    [
        "branch={b}",
        "branch={x}",
        "branch={p}",
        "branch=abc",
        "branch=99999999999999999999",
        "kind=nope",
    ],
)
def test_filters_outside_scope_or_unknown_answer_404(tree, spread, staff, client, login, query):
    login(client, staff(tree.a))
    url = "/admin/inbox?" + query.format(b=tree.b.id, x=tree.x.id, p=tree.p.id)
    assert client.get(url).status_code == 404


def test_inbox_is_paged(tree, pending, staff, client, login):
    made = [pending(tree.a, age=timedelta(minutes=200 - i)) for i in range(PAGE_SIZE + 1)]
    login(client, staff(tree.a))
    first = client.get("/admin/inbox").get_data(as_text=True)
    assert keys(first) == [key(r) for r in made[:PAGE_SIZE]]
    assert "page=2" in first and f"{PAGE_SIZE + 1} items waiting" in first
    second = client.get("/admin/inbox?page=2").get_data(as_text=True)
    assert keys(second) == [key(made[-1])]
    assert keys(client.get("/admin/inbox?page=99").get_data(as_text=True)) == [key(made[-1])]
    for junk in ("abc", "0", "-3", str(2**31)):
        assert client.get(f"/admin/inbox?page={junk}").status_code == 404


def test_a_page_costs_the_same_statements_whatever_its_size(tree, pending, staff, client, login):
    login(client, staff(tree.a))
    client.get("/admin/inbox")  # the first page after logging in may touch the session row

    def page_statements():
        with statements_run() as statements, transaction_ends() as ends:
            page = client.get("/admin/inbox").get_data(as_text=True)
        # Seen as reads, so the request ends in COMMIT and PostgreSQL keeps them prepared.
        assert ends == ["commit"]
        return keys(page), statements

    pending(tree.a)
    one, few = page_statements()
    for minutes in range(1, 12):
        pending(tree.a, age=timedelta(minutes=minutes))
    twelve, many = page_statements()
    assert (len(one), len(twelve)) == (1, 12)
    assert len(many) == len(few)


def test_items_follow_their_branch_when_it_moves(
    app, tree, pending, staff, make_user, grant_role, client, login
):
    """Each item keeps its branch's path, which a move rewrites: the inbox of the
    branch's new province lists it, the old one's no longer does."""
    moving, staying = pending(tree.g), pending(tree.b)
    assert moving.branch_path == tree.g.path
    boss = grant_role(make_user(), tree.n, "admin")
    move_branch(tree.a, tree.p2, actor=boss)  # 渭滨 and its community, to 甘肃
    db.session.commit()
    db.session.expire_all()
    assert moving.branch_path == tree.g.path and tree.g.path.startswith(tree.p2.path)
    assert staying.branch_path == tree.b.path
    for province, listed in ((tree.p2, [moving]), (tree.p, [staying])):
        login(client, staff(province, "admin"))
        assert keys(client.get("/admin/inbox").get_data(as_text=True)) == [key(r) for r in listed]


def test_an_item_given_another_branch_takes_that_branch_path(tree, pending):
    item = pending(tree.a, branch_path="/9/")  # a path handed in is not trusted
    assert item.branch_path == tree.a.path
    item.branch_id = tree.x.id
    db.session.commit()
    assert item.branch_path == tree.x.path


@pytest.fixture
def second_kind(monkeypatch):
    """A second kind over the same requests with card columns of its own, one of them a
    date: kinds differ in their columns, and the inbox reads every kind's cards at once."""

    def summaries(rows):
        return [
            f"Copy of {row.id}: {row.note or '-'} since {row.submitted_at:%Y-%m-%d}" for row in rows
        ]

    kind = ReviewKind(
        key="zz_copy",
        label="Copy",
        model=HomeBranchRequest,
        cards=card_select(
            HomeBranchRequest,
            HomeBranchRequest.note,
            HomeBranchRequest.submitted_at,
        ),
        summaries=summaries,
    )
    monkeypatch.setitem(review_kinds._KINDS, kind.key, kind)
    return kind


def test_a_kind_whose_cards_do_not_start_with_card_select_is_refused():
    cards = select(HomeBranchRequest.id, HomeBranchRequest.note)
    kind = ReviewKind(
        key="zz_bad", label="Bad", model=HomeBranchRequest, cards=cards, summaries=list
    )
    with pytest.raises(ValueError, match="card_select"):
        register_kind(kind)
    assert review_kinds.get_kind("zz_bad") is None


def test_cards_of_several_kinds_come_oldest_first(tree, pending, staff, client, login, second_kind):
    made = [pending(tree.a, age=timedelta(minutes=30 - m), note=f"n{m}") for m in range(3)]
    login(client, staff(tree.a))
    page = client.get("/admin/inbox").get_data(as_text=True)
    # The same moment for both kinds: the kind's key decides, then the id.
    assert keys(page) == [k for r in made for k in (key(r), f"zz_copy:{r.id}")]
    first = made[0]
    assert f"Copy of {first.id}: n0 since {first.submitted_at:%Y-%m-%d}" in page
    assert f"asks for {tree.a.name_en} as their branch" in page


def test_pages_of_several_kinds_follow_on_without_gaps_or_repeats(
    tree, pending, staff, client, login, second_kind
):
    """Each kind's part of a page is cut on its own (so it reads in index order and
    stops early); the pages still follow on, oldest first across kinds."""
    made = [pending(tree.a, age=timedelta(minutes=60 - m)) for m in range(15)]
    login(client, staff(tree.a))
    first = keys(client.get("/admin/inbox").get_data(as_text=True))
    second = keys(client.get("/admin/inbox?page=2").get_data(as_text=True))
    assert first + second == [k for r in made for k in (key(r), f"zz_copy:{r.id}")]
    assert (len(first), len(second)) == (20, 10)


# --- the item page and decisions ------------------------------------------------------------


def test_an_item_outside_scope_answers_404_and_the_attempt_is_audited(
    tree, spread, staff, client, login
):
    officer = staff(tree.a)
    login(client, officer)
    assert client.get(f"/admin/inbox/{KIND}/{spread.b.id}").status_code == 404
    assert client.get(f"/admin/inbox/{KIND}/99999999").status_code == 404
    refused = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "access_refused")
    ).all()
    # Only the item that exists is worth recording, under its own branch.
    assert [(e.actor_id, e.branch_id, e.object_kind, e.object_id) for e in refused] == [
        (officer.id, tree.b.id, KIND, str(spread.b.id))
    ]


def test_item_page_shows_the_request_and_both_forms(tree, pending, staff, client, login):
    req = pending(tree.a, note="我住在渭滨区")
    req.user.home_branch_id = tree.b.id
    req.from_branch_id = tree.b.id
    db.session.commit()
    login(client, staff(tree.a))
    page = client.get(f"/admin/inbox/{KIND}/{req.id}").get_data(as_text=True)
    assert "我住在渭滨区" in page and "岐山县红十字会" in page and "渭滨区红十字会" in page
    assert f"/admin/inbox/{KIND}/{req.id}/approve" in page
    assert f"/admin/inbox/{KIND}/{req.id}/reject" in page
    assert req.user.phone not in page  # masked only


@pytest.mark.parametrize(
    "url",
    [
        "/admin/inbox/nope/{id}",
        "/admin/inbox/home_branch/987654",
        "/admin/inbox/home_branch/99999999999999999999",
    ],
)
def test_unknown_items_answer_404(tree, spread, staff, client, login, url):
    login(client, staff(tree.n, "admin"))
    assert client.get(url.format(id=spread.a.id)).status_code == 404


def test_approve_over_http(tree, pending, staff, client, login):
    req = pending(tree.a)
    officer = staff(tree.a)
    login(client, officer)
    response = client.post(f"/admin/inbox/{KIND}/{req.id}/approve")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/inbox")
    db.session.expire_all()
    req = db.session.get(HomeBranchRequest, req.id)
    assert req.status == "approved" and req.decided_by_id == officer.id
    assert req.user.home_branch_id == tree.a.id
    assert decisions() == 1 and texts() == 1
    # Deciding again changes nothing and says so.
    response = client.post(f"/admin/inbox/{KIND}/{req.id}/approve", follow_redirects=True)
    assert "already answered" in response.get_data(as_text=True)
    assert decisions() == 1 and texts() == 1


@pytest.mark.parametrize("reason", ["", "   ", "\x00"])
def test_reject_without_reason_shows_the_field_error(tree, pending, staff, client, login, reason):
    req = pending(tree.a)
    login(client, staff(tree.a))
    response = client.post(f"/admin/inbox/{KIND}/{req.id}/reject", data={"reason": reason})
    assert response.status_code == 200
    assert "Please write the reason" in response.get_data(as_text=True)
    assert status_of(req) == "pending" and decisions() == 0 and texts() == 0


def test_a_too_long_reason_is_kept_for_editing(tree, pending, staff, client, login):
    req = pending(tree.a)
    login(client, staff(tree.a))
    reason = "资料不全" * 51
    page = client.post(f"/admin/inbox/{KIND}/{req.id}/reject", data={"reason": reason}).get_data(
        as_text=True
    )
    assert reason in page and 'class="error"' in page
    assert status_of(req) == "pending" and decisions() == 0


def test_reject_over_http_and_the_citizen_reads_the_reason(
    tree, pending, staff, client, login, app
):
    req = pending(tree.a)
    login(client, staff(tree.a))
    response = client.post(
        f"/admin/inbox/{KIND}/{req.id}/reject", data={"reason": "<b>请先完成实名认证</b>"}
    )
    assert response.status_code == 302
    assert status_of(req) == "rejected" and decisions() == 1 and texts() == 1
    citizen_client = app.test_client()
    login(citizen_client, db.session.get(User, req.user_id))
    page = citizen_client.get("/branches/mine").get_data(as_text=True)
    assert "&lt;b&gt;请先完成实名认证&lt;/b&gt;" in page  # shown, escaped


# --- bulk approve ---------------------------------------------------------------------------


def test_bulk_approve_checks_each_item(tree, spread, staff, client, login):
    officer = staff(tree.a)
    login(client, officer)
    picked = [
        key(spread.a),
        key(spread.g),
        key(spread.b),
        key(spread.a),
        "nope:1",
        f"{KIND}:x",
        "garbage",
    ]
    response = client.post("/admin/inbox/bulk", data={"item": picked}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Approved 2" in page and "4 could not be approved" in page
    assert status_of(spread.a) == status_of(spread.g) == "approved"
    assert status_of(spread.b) == "pending"  # the sibling county's item is untouched
    assert decisions() == 2 and texts() == 2
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "review_approved"))
    assert {e.object_id for e in entries} == {str(spread.a.id), str(spread.g.id)}


def test_bulk_with_nothing_ticked(tree, spread, staff, client, login):
    login(client, staff(tree.a))
    response = client.post("/admin/inbox/bulk", data={}, follow_redirects=True)
    assert "tick at least one" in response.get_data(as_text=True)
    assert decisions() == 0


def test_bulk_keeps_the_filters_when_going_back(tree, spread, staff, client, login):
    login(client, staff(tree.c, "admin"))
    response = client.post(
        "/admin/inbox/bulk", data={"item": [key(spread.a)], "branch": tree.a.id, "kind": KIND}
    )
    assert response.headers["Location"].endswith(f"/admin/inbox?kind={KIND}&branch={tree.a.id}")
    assert status_of(spread.a) == "approved"


# --- exports --------------------------------------------------------------------------------


def test_csv_export_is_scoped_excel_friendly_and_audited(tree, spread, staff, client, login):
    spread.a.user.profile = None
    login(client, staff(tree.a))
    response = client.get("/admin/inbox?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 3  # header + a + g
    assert "渭滨区红十字会" in text and "岐山县" not in text and "城关区" not in text
    assert spread.a.user.phone not in text  # masked
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "inbox_exported"))
    assert entry.changes == {"format": "csv", "rows": 2}


def test_xlsx_export_with_filters(tree, spread, staff, client, login):
    login(client, staff(tree.c, "admin"))
    response = client.get(f"/admin/inbox?format=xlsx&branch={tree.b.id}")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == spread.b.id and rows[1][4] == "岐山县红十字会"


# --- the permission matrix ------------------------------------------------------------------

# The item sits at the county 渭滨 (tree.a). Relative to it, a staff member's branch is:
PLACES = {"own": "a", "child": "g", "sibling": "b", "parent": "c"}
# Who may review an item at 渭滨: staff whose branch is 渭滨 itself or above it.
MAY_REVIEW = {"own", "parent"}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("role", ["officer", "admin", "auditor", "citizen", "national"])
@pytest.mark.parametrize("action", ["list", "view", "approve", "export"])
def test_permission_matrix(tree, pending, staff, make_user, client, login, place, role, action):
    req = pending(tree.a)
    if role == "citizen":
        user = make_user(home_branch_id=getattr(tree, PLACES[place]).id, locale="en")
    elif role == "national":
        user = staff(tree.n, "admin")
    else:
        user = staff(getattr(tree, PLACES[place]), role)
    login(client, user)
    reviewer = role in ("officer", "admin", "national")
    allowed = role == "national" or (reviewer and place in MAY_REVIEW)

    if action == "list":
        response = client.get("/admin/inbox")
        assert response.status_code == (200 if reviewer else 403)
        assert (key(req) in response.get_data(as_text=True)) is allowed
    elif action == "view":
        expected = 200 if allowed else (404 if reviewer else 403)
        assert client.get(f"/admin/inbox/{KIND}/{req.id}").status_code == expected
    elif action == "approve":
        expected = 302 if allowed else (404 if reviewer else 403)
        assert client.post(f"/admin/inbox/{KIND}/{req.id}/approve").status_code == expected
        assert status_of(req) == ("approved" if allowed else "pending")
        assert decisions() == (1 if allowed else 0)
    else:
        response = client.get("/admin/inbox?format=csv")
        assert response.status_code == (200 if reviewer else 403)
        if reviewer:
            rows = response.data.decode("utf-8-sig").strip().splitlines()[1:]
            assert len(rows) == (1 if allowed else 0)


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_tokenless_decisions_are_refused(self, tree, pending, staff, client, login):
        req = pending(tree.a)
        login(client, staff(tree.a))
        assert client.post(f"/admin/inbox/{KIND}/{req.id}/approve").status_code == 400
        assert (
            client.post(f"/admin/inbox/{KIND}/{req.id}/reject", data={"reason": "x"}).status_code
            == 400
        )
        assert client.post("/admin/inbox/bulk", data={"item": key(req)}).status_code == 400
        assert status_of(req) == "pending" and decisions() == 0

    def test_the_real_reject_form_works(self, tree, pending, staff, client, login):
        req = pending(tree.a)
        login(client, staff(tree.a))
        page = client.get(f"/admin/inbox/{KIND}/{req.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            f"/admin/inbox/{KIND}/{req.id}/reject",
            data={"csrf_token": token, "reason": "不在本辖区"},
        )
        assert response.status_code == 302 and status_of(req) == "rejected"


# --- in a real browser ----------------------------------------------------------------------
# The shared Chromium fixtures (tests/conftest.py) serve this
# feature's browser test here, beside its other tests. tests/browser's app_overrides does not apply:
# the class below turns CSRF on for itself only.


def _log_in_in_english(page, phone: str, next_path: str) -> None:
    page.goto(f"{page.base}/account/login?next={next_path}")
    page.get_by_role("button", name="English").click()  # what a person would press
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
class TestOnAPhone:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_county_officer_rejects_a_transfer_and_the_citizen_reads_why(
        self, tree, make_user, grant_role, request
    ):
        from portal.branches.home_branch import request_home_branch

        page = request.getfixturevalue("phone_page")
        chromium = request.getfixturevalue("browser")
        server = request.getfixturevalue("live_server")

        officer = grant_role(make_user(), tree.a, "officer")
        citizen = make_user(home_branch_id=tree.b.id)
        req = request_home_branch(citizen, tree.a, "搬家到渭滨区了")
        db.session.commit()
        assert req.is_transfer

        _log_in_in_english(page, officer.phone, "/admin/inbox")
        page.wait_for_url("**/admin/inbox")
        card = page.locator("#inbox-items li", has_text="asks to move from")
        card.get_by_role("link", name="Open").click()
        page.get_by_label("Reason for not approving").fill("请先到岐山县红十字会办理转出手续。")
        page.get_by_role("button", name="Do not approve").click()
        page.wait_for_url("**/admin/inbox")
        assert page.get_by_text("Not approved.").is_visible()
        assert status_of(req) == "rejected"

        context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        other = context.new_page()
        other.base = server
        _log_in_in_english(other, citizen.phone, "/branches/mine")
        other.wait_for_url("**/branches/mine")
        assert other.get_by_text("请先到岐山县红十字会办理转出手续。").is_visible()
        # Nothing sticks out sideways on a narrow phone.
        assert no_sideways_scroll(other)
        context.close()


# --- the branch filter's choices ------------------------------------------------------------


def test_branch_filter_choices(app, tree, staff, make_branch):
    from portal.branches.scope import active_grants
    from portal.review.inbox import branch_filter_choices

    make_branch(tree.c, level="county", name="已撤销县红十字会").closed_at = utcnow()
    db.session.commit()
    county_officer, city_admin = staff(tree.a), staff(tree.c, "admin")

    def choices(user):
        # The grants come with the session read; the children are one query.
        with app.test_request_context():
            active_grants(user)
            with statements_run() as statements:
                listed = branch_filter_choices(user)
        assert len(statements) == 1
        return listed

    # A city admin: the city and its open counties (never the units below them).
    assert [b.name_zh for b in choices(city_admin)] == [
        tree.c.name_zh,
        tree.a.name_zh,
        tree.b.name_zh,
    ]
    # A county officer: just the county.
    assert [b.id for b in choices(county_officer)] == [tree.a.id]
