"""Nothing personal is kept in a cache: every page, every download and anything else
answered to a signed-in person is `Cache-Control: no-store`, whatever the view set."""

import pytest
from flask import Response

from portal import audit
from portal.extensions import db


@pytest.fixture
def plain_page(app):
    """A non-HTML answer whose view would let caches keep it (added before any request)."""

    def view():
        return Response(
            "42", mimetype="text/plain", headers={"Cache-Control": "public, max-age=600"}
        )

    app.add_url_rule("/_test/plain", "test_plain", view)
    return "/_test/plain"


@pytest.fixture
def city_admin(make_user, make_branch, grant_role):
    city = make_branch(make_branch(make_branch()))
    admin = grant_role(make_user(), city, "admin")
    audit.record("review_rejected", actor=admin, actor_role="admin", branch_id=city.id)
    db.session.commit()
    return admin


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_are_no_store(client, login, city_admin, fmt):
    login(client, city_admin)
    r = client.get("/admin/audit", query_string={"format": fmt})
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/account/", "/admin/audit"])
def test_signed_in_pages_are_no_store(client, login, city_admin, path):
    login(client, city_admin)
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"


def test_anything_for_a_signed_in_person_is_no_store(client, login, make_user, plain_page):
    login(client, make_user())
    for path in ("/healthz", plain_page):
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == "no-store", path


def test_the_response_that_signs_in_is_no_store(client, make_user):
    from tests.conftest import DEFAULT_PASSWORD

    user = make_user()
    r = client.post("/account/login", data={"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert r.status_code == 302
    assert r.headers["Cache-Control"] == "no-store"


def test_visitors_pages_are_no_store_but_shared_answers_keep_theirs(client, plain_page):
    assert client.get("/account/login").headers["Cache-Control"] == "no-store"
    assert client.get(plain_page).headers["Cache-Control"] == "public, max-age=600"
    assert client.get("/healthz").headers.get("Cache-Control") is None


def test_static_files_keep_their_caching_when_signed_in(client, login, make_user):
    login(client, make_user())
    r = client.get("/static/css/app.css")
    assert r.status_code == 200
    assert "no-store" not in r.headers.get("Cache-Control", "")
