""" "My Red Cross": one page where a citizen sees every role and application they have
with the Red Cross. Each feature registers a section (`register_section`): a loader that
reads what the signed-in user has in that feature, and a template that shows it (with
its own actions: withdraw, renew, resign, edit). A feature with nothing for the user
returns None and its section is left out, save for its "join" link.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    order: int  # smaller first
    template: str  # included with `data` (what the loader returned) in its context
    load: Callable[[object], object | None]  # user -> data, or None when nothing to show


_SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> Section:
    """Add a section (at import time); re-registering a key replaces it."""
    _SECTIONS[section.key] = section
    return section


def sections_for(user) -> list[tuple[Section, object | None]]:
    """Every registered section with its data for `user`, in order."""
    ordered = sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
    return [(section, section.load(user)) for section in ordered]
