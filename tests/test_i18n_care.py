"""Locale order (user -> session -> Accept-Language -> default), the switches on every
page, care mode, and that nothing is loaded from another origin."""

import re
from pathlib import Path

import pytest

from portal.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(
    "accept, expected",
    [
        (None, "zh-Hans"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("zh-Hans-CN", "zh-Hans"),
        ("fr-FR", "zh-Hans"),
    ],
)
def test_accept_language_then_default(client, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    assert html_lang(client.get("/", headers=headers)) == expected


def test_session_choice_beats_accept_language(client):
    client.post("/language", data={"locale": "en", "next": "/"})
    assert html_lang(client.get("/", headers={"Accept-Language": "zh-CN"})) == "en"


def test_user_choice_beats_session(client, make_user, login):
    user = make_user(locale="zh")
    login(client, user)
    with client.session_transaction() as s:
        s["locale"] = "en"
    assert html_lang(client.get("/")) == "zh-Hans"


def test_switch_saves_choice_for_logged_in_user(client, make_user, login):
    user = make_user()
    login(client, user)
    client.post("/language", data={"locale": "en", "next": "/"})
    db.session.refresh(user)
    assert user.locale == "en"


def test_unknown_locale_and_unsafe_next_are_ignored(client):
    r = client.post("/language", data={"locale": "xx", "next": "//evil.example/"})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert html_lang(client.get("/")) == "zh-Hans"


@pytest.mark.parametrize("path", ["/", "/account/login", "/account/register", "/no-such-page"])
def test_every_page_has_language_and_care_switches(client, path):
    body = client.get(path).get_data(as_text=True)
    assert 'action="/language"' in body and 'action="/care-mode"' in body
    assert 'class="skip-link"' in body and '<main id="content"' in body


def test_care_mode_switch_remembered_in_session_and_for_user(client, make_user, login):
    assert 'class="care"' not in client.get("/").get_data(as_text=True)
    client.post("/care-mode", data={"on": "1", "next": "/"})
    assert '<html lang="zh-Hans" class="care">' in client.get("/").get_data(as_text=True)

    user = make_user()
    other = client.application.test_client()
    login(other, user)
    other.post("/care-mode", data={"on": "1", "next": "/"})
    db.session.refresh(user)
    assert user.care_mode is True
    client.post("/care-mode", data={"on": "0", "next": "/"})
    assert 'class="care"' not in client.get("/").get_data(as_text=True)


def test_care_mode_chosen_as_a_guest_survives_logging_in(client, make_user):
    from tests.conftest import DEFAULT_PASSWORD

    user = make_user()  # care mode off on the account
    client.post("/care-mode", data={"on": "1", "next": "/"})
    r = client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert r.status_code == 302
    assert '<html lang="zh-Hans" class="care">' in client.get("/").get_data(as_text=True)
    db.session.refresh(user)
    assert user.care_mode is True


def test_the_accounts_saved_care_mode_wins_over_the_guests_off(client, make_user):
    """On a shared phone the browser's choice may be someone else's: the account's own
    care mode (on) stays on, and stays saved."""
    from tests.conftest import DEFAULT_PASSWORD

    user = make_user(care_mode=True)
    client.post("/care-mode", data={"on": "0", "next": "/"})
    client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert '<html lang="zh-Hans" class="care">' in client.get("/").get_data(as_text=True)
    db.session.refresh(user)
    assert user.care_mode is True


def test_the_accounts_saved_language_wins_over_the_guests(client, make_user):
    from tests.conftest import DEFAULT_PASSWORD

    user = make_user(locale="zh")
    client.post("/language", data={"locale": "en", "next": "/"})
    assert html_lang(client.get("/")) == "en"
    client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "zh-Hans"
    db.session.refresh(user)
    assert user.locale == "zh"


def test_an_account_without_a_language_adopts_the_guests(client, make_user):
    from tests.conftest import DEFAULT_PASSWORD

    user = make_user()
    assert user.locale is None
    client.post("/language", data={"locale": "en", "next": "/"})
    client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert html_lang(client.get("/", headers={"Accept-Language": "zh-CN"})) == "en"
    db.session.refresh(user)
    assert user.locale == "en"


def test_logging_out_returns_language_and_care_mode_to_the_defaults(client, make_user):
    """The next person on a shared phone does not inherit the last one's look."""
    from tests.conftest import DEFAULT_PASSWORD

    user = make_user(locale="en", care_mode=True)
    client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert '<html lang="en" class="care">' in client.get("/").get_data(as_text=True)
    r = client.post("/account/logout", follow_redirects=True)
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<html lang="zh-Hans">' in body
    assert "您已退出登录。" in body  # the goodbye too, not in the account's English
    body = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in body  # the browser's language again, care mode off
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)
    db.session.refresh(user)
    assert (user.locale, user.care_mode) == ("en", True)  # the account keeps them


def test_saved_care_mode_applies_when_the_guest_made_no_choice(client, make_user):
    from tests.conftest import DEFAULT_PASSWORD

    user = make_user(care_mode=True)
    client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert 'class="care"' in client.get("/").get_data(as_text=True)


def test_care_mode_css_meets_targets():
    css = (ROOT / "static/css/app.css").read_text()
    care = css[css.index("html.care {") :]
    assert "--tap: 60px" in care  # tap targets >= 60 px
    assert "font-size: 125%" in care  # 20 px body (>= 18 px)
    assert "--ink: #000" in care  # black on white: 21:1 contrast


def test_no_asset_from_another_origin():
    pattern = re.compile(r"""(src|href)=["']https?://|url\(["']?https?://|@import""")
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("templates", "static")
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in {".html", ".css", ".js"} and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_templates_follow_force_locale_and_refresh(app):
    """A message rendered in the recipient's language, or a language switched
    mid-request, takes effect at once in the templates' _()."""
    from flask import render_template_string, session
    from flask_babel import force_locale, refresh

    def log_in():
        return render_template_string("{{ _('Log in') }}")

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        chinese = log_in()
        assert chinese != "Log in"
        with force_locale("en"):
            assert log_in() == "Log in"
        assert log_in() == chinese
        session["locale"] = "en"
        refresh()
        assert log_in() == "Log in"


def test_plain_text_bodies_are_not_escaped_and_pages_are(
    app, make_branch, make_user, grant_role, login
):
    """The review-decision SMS is rendered from a .txt template: a branch called
    "Tom & Jerry" reaches the phone as written. A page (.html) escapes the same text."""
    from sqlalchemy import select

    from portal.branches.home_branch import request_home_branch
    from portal.notifications.models import Notification
    from portal.review.services import decide
    from tests.conftest import english_client

    name = "Tom & Jerry <b>"
    branch = make_branch(make_branch(make_branch()), name=name)
    officer = grant_role(make_user(), branch, "officer")
    request = request_home_branch(make_user(locale="en"), branch, None)
    db.session.commit()
    assert decide(request, officer, "reject", "Ask <Tom> & co") is True
    db.session.commit()
    sms = db.session.scalars(
        select(Notification).where(Notification.kind == "review_decision")
    ).one()
    assert sms.body == (
        "【红十字博爱】Home branch request: not approved by Tom & Jerry <b>. Reason: Ask <Tom> & co"
    )

    client = english_client(app)
    login(client, officer)
    page = client.get("/admin/branches/", query_string={"q": name})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Branches matching “Tom &amp; Jerry &lt;b&gt;”" in body
    assert "Tom & Jerry <b>" not in body
