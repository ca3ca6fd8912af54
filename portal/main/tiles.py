"""The home page's service tiles. Each tile is a link to its feature's page and names
that page's endpoint; a tile shows only while the endpoint is registered, so the home
page never promises a service that is not built, and a feature added later shows its
tile by registering the endpoint named here."""

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Tile:
    endpoint: str
    title: str


TILES = [
    Tile("main.my_red_cross", _l("My Red Cross: everything you have joined or asked for")),
    Tile("membership.join", _l("Join the Red Cross as a member")),
    Tile("volunteering.join", _l("Volunteer and record your service hours")),
    Tile("marrow.register", _l("Pre-register as a stem cell (marrow) donor")),
    Tile("organ.register", _l("Register a wish to donate organs or your body")),
    Tile("memorial.index", _l("In remembrance of our donors")),
    Tile("training.classes", _l("Book a first-aid class")),
    Tile("donations.public", _l("See where donations went")),
    Tile("branch_public.my_branch", _l("Join the Red Cross branch where you live")),
    Tile("accounts.profile", _l("Your account and real-name profile")),
]


def available_tiles() -> list[tuple[str, str]]:
    """(title, url) of each tile whose page exists in this app, in the order above."""
    registered = current_app.view_functions
    return [(str(t.title), url_for(t.endpoint)) for t in TILES if t.endpoint in registered]
