"""Taking a volunteer off a team: a confirmation page, then a CSRF-protected POST that
is scoped (a sibling branch's officer gets 404) and audited; the volunteer stays."""

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.volunteering.models import Volunteer, VolunteerTeam, VolunteerTeamMember
from tests.conftest import count, english_client
from tests.test_volunteering_staff import as_user, world  # noqa: F401  (fixtures)


def _team_with(world, tree):  # noqa: F811
    volunteer = world["volunteers"][0]
    team = VolunteerTeam(
        branch_id=tree.a.id, name="渭滨区应急救护志愿服务队", service_area="first_aid"
    )
    db.session.add(team)
    db.session.flush()
    db.session.add(VolunteerTeamMember(team_id=team.id, volunteer_id=volunteer.id))
    db.session.commit()
    return team, volunteer


def test_confirm_then_remove_audited(world, as_user, tree):  # noqa: F811
    team, volunteer = _team_with(world, tree)
    client = as_user(world["a"])
    url = f"/admin/volunteering/teams/{team.id}/members/{volunteer.id}/remove"
    assert url in client.get(f"/admin/volunteering/teams/{team.id}").get_data(as_text=True)
    confirm = client.get(url)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "张晓明" in html and "stay a registered volunteer" in html
    assert count(VolunteerTeamMember) == 1  # asking changes nothing
    done = client.post(url)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/teams/{team.id}")
    assert count(VolunteerTeamMember) == 0
    assert db.session.get(Volunteer, volunteer.id).status == "active"
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "volunteer_team_member_removed")
    )
    assert entry.object_id == str(team.id) and entry.changes["volunteer"] == volunteer.number
    assert client.post(url).status_code == 404  # no longer in the team


def test_a_sibling_branch_officer_gets_404(world, as_user, tree):  # noqa: F811
    team, volunteer = _team_with(world, tree)
    sibling = as_user(world["b"])
    url = f"/admin/volunteering/teams/{team.id}/members/{volunteer.id}/remove"
    assert sibling.get(url).status_code == 404
    assert sibling.post(url).status_code == 404
    assert count(VolunteerTeamMember) == 1


def test_a_volunteer_not_in_the_team_is_404(world, as_user, tree):  # noqa: F811
    team, _ = _team_with(world, tree)
    other = world["volunteers"][1]
    client = as_user(world["a"])
    assert (
        client.get(f"/admin/volunteering/teams/{team.id}/members/{other.id}/remove").status_code
        == 404
    )


def test_the_post_needs_the_csrf_token(app, world, login, tree):  # noqa: F811
    team, volunteer = _team_with(world, tree)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = english_client(app)
        login(client, world["a"])
        url = f"/admin/volunteering/teams/{team.id}/members/{volunteer.id}/remove"
        answer = client.post(url)
        assert answer.status_code in (200, 400)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert count(VolunteerTeamMember) == 1
