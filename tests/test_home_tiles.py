"""The home page promises only services that exist: each tile links to its working
page, and a service not built yet shows no tile until its endpoint is registered."""

from flask import Blueprint

from portal.main import tiles as tiles_module
from portal.main.tiles import TILES, Tile
from tests.conftest import english_client


def _tile_links(html: str) -> str:
    start = html.index('<ul class="tiles">')
    return html[start : html.index("</ul>", start)]


def test_a_tile_links_to_each_page_that_exists_and_none_to_the_rest(app):
    tiles = _tile_links(english_client(app).get("/").get_data(as_text=True))
    assert '<a href="/branches/mine">Join the Red Cross branch where you live</a>' in tiles
    assert '<a href="/account/">Your account and real-name profile</a>' in tiles
    assert '<a href="/volunteer/">Volunteer and record your service hours</a>' in tiles
    assert '<a href="/membership/">Join the Red Cross as a member</a>' in tiles
    assert '<a href="/marrow/">Pre-register as a stem cell (marrow) donor</a>' in tiles
    assert '<a href="/organ/">Register a wish to donate organs or your body</a>' in tiles
    assert '<a href="/training/">Book a first-aid class</a>' in tiles
    assert '<a href="/transparency/">See where donations went</a>' in tiles
    assert tiles.count("<li>") == sum(t.endpoint in app.view_functions for t in TILES) >= 4


def test_a_feature_shows_its_tile_once_its_endpoint_is_registered(app, monkeypatch):
    """Of two tiles named for pages nobody had built, the one whose blueprint is then
    added shows; the other stays hidden."""
    extra = [Tile("lottery.draw", "Win a prize"), Tile("raffle.draw", "Buy a ticket")]
    monkeypatch.setattr(tiles_module, "TILES", [*TILES, *extra])
    lottery = Blueprint("lottery", __name__)
    lottery.add_url_rule("/lottery/draw", "draw", lambda: "draw")
    app.register_blueprint(lottery)

    tiles = _tile_links(english_client(app).get("/").get_data(as_text=True))
    assert '<a href="/lottery/draw">Win a prize</a>' in tiles
    assert "Buy a ticket" not in tiles
