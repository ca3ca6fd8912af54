"""Every page the portal has keeps the layout rules of tests/browser/page_rules.py, in
normal and in care mode, for a visitor, a citizen with a profile and a staff admin.

The pages come from app.url_map (every GET rule, its URL arguments filled with ids of
the demo data), so a page added later is measured without touching this file; a new
kind of URL argument fails loudly until it gets an id below. Only answers that are not
HTML (exports, JSON, static files) and redirects (the page they lead to is measured
under its own rule) are left out."""

import json
import secrets
from types import SimpleNamespace

import pytest
from flask import Response, request, url_for
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.extensions import db
from tests.browser.page_rules import PHONE, rule_breaks
from tests.conftest import WECHAT_UA

pytestmark = pytest.mark.browser

ROLES = ("visitor", "citizen", "staff")
CITIZEN_PHONE = "13900000002"  # 李建国: profile, home branch 渭滨区, transfer to 岐山县 waiting
STAFF_PHONE = "13800000001"  # national admin: every staff page has content

# Pages that must be measured with content in them, so that an empty demo or a broken
# login cannot make the test pass by measuring login redirects and empty lists.
MUST_MEASURE = {
    "visitor": {
        "main.index": None,
        "accounts.register_verify": "input",
        "accounts.login_code_verify": "input",
        "accounts.reset_verify": "input",
        "memorial.index": "#memorial li form",
        "donations.public": ".chart svg",
        "donations.project": "dl.money-facts",
        "donations.expenses": "main li a",
    },
    "citizen": {
        "accounts.edit_profile": ".notice",  # the saved document number
        "branch_public.my_branch": "dl.facts",
        "membership.join": "main form",
        "accounts.sessions": "main form",
        "volunteering.card": ".card svg",
        "volunteering.edit": "main form",
        "membership.groups_page": "main form",
        "membership.group_card": ".card svg",
        "volunteering.my_service": "main table",
        "volunteering.activity_list": "main li a",
        "volunteering.certificate": ".card svg",
        "organ.register": "main form",
        "marrow.register": ".notice",  # 李建国 is past 45
        "training.mine": "main .cards li",
        "training.certificate": ".card svg",
        "training.booking": "dl.facts",
    },
    "staff": {
        "admin.inbox": "#inbox-items li",
        "admin.inbox_item": "main form",
        "admin.audit_log": "table tbody tr",
        "admin.dashboard": "main table",
        "branches.tree": "main li a",
        "branches.staff": "table tbody tr",
        "branches.detail": "main h1",
        "volunteer_staff.volunteers": "table tbody tr",
        "volunteer_staff.volunteer": "main form",
        "volunteer_staff.team": "main li",
        "membership_staff.members": "#members li",
        "membership_staff.member": "dl.facts",
        "membership_staff.group_members": "#group-members li",
        "membership_staff.group_member": "dl.facts",
        "volunteer_staff.staff_activity": "main table",
        "volunteer_staff.roster": "main table",
        "volunteer_staff.shift_qr": ".qr svg",
        "volunteer_staff.hours_ranking": "table tbody tr",
        "donors_staff.marrow_list": "#registrants li",
        "donors_staff.marrow_record": "dl.facts",
        "donors_staff.organ_record": "main ol li",
        "donors_staff.session_roster": "#roster li",
        "donors_staff.memorial_list": "main form",
        "training_staff.session_detail": "#roster tbody tr",
        "training_staff.attendance": "main form",
        "training_staff.certificate_detail": "dl.facts",
        "training.classes": "#sessions li",
        "donations_staff.ledger_list": "main li",
        "donations_staff.project": "main form",
        "donations_staff.gift": "dl.facts",
    },
}


def _demo(app) -> SimpleNamespace:
    from portal.accounts.models import User
    from portal.branches.home_branch import KIND, HomeBranchRequest
    from portal.branches.models import Branch, StaffRole
    from portal.consent import policy
    from portal.demo import load_all
    from portal.donations.models import Donation, Evidence, Expense, Project
    from portal.donors.models import (
        MarrowRegistration,
        MemorialDonor,
        OrganRegistration,
        SampleSession,
    )
    from portal.membership.models import GroupMember, Member
    from portal.training.models import Certificate, ClassSession
    from portal.volunteering.models import Volunteer, VolunteerTeam
    from portal.volunteering.service_models import (
        ServiceCertificate,
        ShiftSignup,
        VolunteerActivity,
        VolunteerShift,
    )

    load_all()
    db.session.commit()
    pending = db.session.scalar(
        select(HomeBranchRequest).where(HomeBranchRequest.status == "pending").limit(1)
    )
    baoji = db.session.scalar(select(Branch).where(Branch.code == "610300"))
    certificate = db.session.scalar(select(Certificate).order_by(Certificate.id).limit(1))
    full_class = db.session.scalar(
        select(ClassSession).where(ClassSession.waitlist_last > 0).limit(1)
    )
    return SimpleNamespace(
        user=lambda phone: db.session.scalar(select(User).where(User.phone == phone)),
        url_args={
            "branch_id": baoji.id,
            "kind_key": KIND,
            "obj_id": pending.id,
            "request_id": pending.id,
            "role_id": db.session.scalar(select(StaffRole.id).limit(1)),
            "version": policy.CURRENT,
            "token": "no-such-card",
            "volunteer_id": db.session.scalar(select(Volunteer.id).limit(1)),
            "team_id": db.session.scalar(select(VolunteerTeam.id).limit(1)),
            "member_id": db.session.scalar(select(Member.id).order_by(Member.id).limit(1)),
            # the demo citizen's company (demo/groups.py): its card page shows for them
            "group_id": db.session.scalar(select(GroupMember.id).order_by(GroupMember.id).limit(1)),
            "activity_id": db.session.scalar(
                select(VolunteerActivity.id).order_by(VolunteerActivity.id).limit(1)
            ),
            "shift_id": db.session.scalar(
                select(VolunteerShift.id).order_by(VolunteerShift.id).limit(1)
            ),
            "signup_id": db.session.scalar(select(ShiftSignup.id).limit(1)),
            # One argument name means another thing in another blueprint: "<blueprint>.<name>"
            "volunteering.certificate_id": db.session.scalar(
                select(ServiceCertificate.id).limit(1)
            ),
            "registration_id": db.session.scalar(select(func.min(MarrowRegistration.id))),
            "organ_id": db.session.scalar(select(func.max(OrganRegistration.id))),
            "donors_staff.session_id": db.session.scalar(
                select(SampleSession.id).where(SampleSession.seats_taken > 0).limit(1)
            ),
            "donor_id": db.session.scalar(select(func.min(MemorialDonor.id))),
            "session_id": full_class.id,
            "day_id": full_class.days[0].id,
            "booking_id": certificate.booking_id,
            "certificate_id": certificate.id,
            "project_id": db.session.scalar(select(Project.id).order_by(Project.id).limit(1)),
            "donation_id": db.session.scalar(select(Donation.id).order_by(Donation.id).limit(1)),
            "evidence_id": db.session.scalar(select(Evidence.id).limit(1)),
            "expense_id": db.session.scalar(select(Expense.id).limit(1)),
        },
    )


def page_urls(app, url_args: dict) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET rule but static files."""
    pages = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            blueprint = rule.endpoint.rpartition(".")[0]
            args = {
                name: url_args.get(f"{blueprint}.{name}", url_args.get(name))
                for name in rule.arguments
            }
            unknown = {name for name, value in args.items() if value is None}
            assert not unknown, f"{rule.rule}: give a demo id for {unknown} in _demo()"
            pages.append((rule.endpoint, url_for(rule.endpoint, **args)))
    return pages


def _session_cookie(app, base: str, user=None, data: dict | None = None) -> dict:
    """A real server-side session row, as after logging in (or, without a user, as a
    visitor halfway through a code flow), and the browser cookie that points to it."""
    from portal.accounts.models import ServerSession
    from portal.branches.scope import is_staff
    from portal.sessions import hash_token

    token = secrets.token_urlsafe(32)
    data = dict(data or {})
    staff = bool(user and is_staff(user))
    if user is not None:
        data.update({"_user_id": str(user.id), "_fresh": True, "_staff": staff})
    db.session.add(
        ServerSession(
            token_hash=hash_token(token),
            user_id=user.id if user else None,
            is_staff=staff,
            data=json.dumps(data),
        )
    )
    db.session.commit()
    return {"name": app.config["SESSION_COOKIE_NAME"], "value": token, "url": base}


def _context(browser, app, base, role, demo):
    from portal.accounts.flows import LOGIN_CODE_PHONE, REGISTER_PHONE, RESET_PHONE

    context = browser.new_context(
        viewport=PHONE,
        user_agent=WECHAT_UA,
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    if role == "visitor":
        # Halfway through each code flow, so the "type the code" pages show.
        phone = "13912345678"
        flows = {REGISTER_PHONE: phone, LOGIN_CODE_PHONE: CITIZEN_PHONE, RESET_PHONE: phone}
        cookie = _session_cookie(app, base, data=flows)
    else:
        user = demo.user(STAFF_PHONE if role == "staff" else CITIZEN_PHONE)
        cookie = _session_cookie(app, base, user)
        _session_cookie(app, base, user)  # logged in on a second phone too: sessions page
    context.add_cookies([cookie])
    return context


def _html_pages(context, pages) -> list[tuple[str, str, int]]:
    """The pages that answer with HTML, with their status; error pages (a citizen at a
    staff URL) only once per status, as they all look alike."""
    html, statuses = [], set()
    for endpoint, url in pages:
        answer = context.request.get(url, max_redirects=0)
        if answer.status in (301, 302, 303, 307, 308):
            continue
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        if answer.status != 200:
            if answer.status in statuses:
                continue
            statuses.add(answer.status)
        html.append((endpoint, url, answer.status))
    return html


def _switch_care_mode_on(app, page, base):
    with app.test_request_context(), force_locale("zh"):
        label = gettext("Care mode")
    page.goto(base + "/")
    page.get_by_role("button", name=label).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("role", ROLES)
def test_every_page_keeps_the_layout_rules(app, browser, live_server, role):
    demo = _demo(app)
    context = _context(browser, app, live_server, role, demo)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        pages = _html_pages(
            context, [(e, live_server + u) for e, u in page_urls(app, demo.url_args)]
        )
        measured = {endpoint for endpoint, _, _ in pages}
        assert set(MUST_MEASURE[role]) <= measured, (
            f"not measured: {set(MUST_MEASURE[role]) - measured}"
        )
        breaks = []
        for mode in ("normal", "care"):
            if mode == "care":
                _switch_care_mode_on(app, page, live_server)
            for endpoint, url, status in pages:
                answer = page.goto(url)
                assert answer.status == status, f"{url} answered {answer.status}, before {status}"
                content = MUST_MEASURE[role].get(endpoint)
                if content:
                    assert page.locator(content).count(), f"{url} shows no {content!r}"
                found, targets = rule_breaks(page, care=mode == "care")
                # The language and care-mode switches are on every page: fewer targets
                # means the probe did not look, not that the page is fine.
                assert targets >= 3, f"{url}: only {targets} tap targets found"
                breaks += [f"{mode} {url.removeprefix(live_server)}: {b}" for b in found]
        assert not breaks, "\n" + "\n".join(breaks)
    finally:
        context.close()


# A page that breaks every rule, served by the app under a rule of its own, with a CSP
# that lets it style itself inline (the portal's own pages cannot).
BAD_PAGE = """<!doctype html>
<html class="{mode}"><head><meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body {{ margin: 0; font-size: 20px; }} button {{ font: inherit; height: 50px; }} .tiny {{ height: 30px; font-size: 12px; }}
  .wide {{ width: 300px; height: 1px; }} small {{ font-size: 12px; }}
</style></head><body>
<form><button>One</button><button>Two</button><button>Three</button></form>
<p>Text with <a href="/">a link in a sentence</a> in it.</p>
<nav><p><a href="/">Top</a> › <a href="/">crumb</a> › here</p></nav>
<p><a class="tiny" href="/">alone</a></p>
<label class="tiny"><input type="checkbox"> tick</label>
<p><small>fine print</small></p>
<div class="wide"></div>
</body></html>"""


def test_the_rules_catch_a_page_that_breaks_them(app, browser, live_server):
    """The probe can fail: each rule reports a page that breaks it, and the inline-link
    exception does not hide links that stand alone."""

    def bad_page():
        mode = "care" if "care" in request.args else ""
        return Response(
            BAD_PAGE.format(mode=mode),
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    app.add_url_rule("/layout-rules/bad", "layout_rules_bad", bad_page)
    assert ("layout_rules_bad", "/layout-rules/bad") in page_urls(app, _demo(app).url_args)

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_server + "/layout-rules/bad")
        normal, _ = rule_breaks(page, care=False)
        page.goto(live_server + "/layout-rules/bad?care")
        care, _ = rule_breaks(page, care=True)
    finally:
        context.close()

    small_targets = next(b for b in care if b.startswith("tap targets under 60px"))
    assert 'a.tiny "alone"' in small_targets  # a link standing on its own counts
    assert 'label.tiny "tick"' in small_targets  # a checkbox is measured with its label
    assert "link in a sentence" not in small_targets  # an inline text link does not
    assert 'a "crumb"' in small_targets  # but a link in a nav does
    assert any(b.startswith("text under 18px") and "fine print" in b for b in care)
    assert not any(b.startswith("text under") for b in normal)  # no size rule outside care
    assert any(b.startswith("tap targets under 44px") for b in normal)
    # 300 px fits a 360 px phone but not the 180 px of 200 % zoom.
    for found in (normal, care):
        sideways = [b.split(":")[0] for b in found if "sideways" in b]
        assert sideways == ["scrolls sideways at 200% zoom"]
