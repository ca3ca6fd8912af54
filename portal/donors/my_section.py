""" "My Red Cross": the donor section (marrow and organ / body registrations, with the
link to the consents they rest on)."""

from portal.donors import marrow, organ
from portal.main.my_red_cross import Section, register_section


def _load(user) -> dict:
    return {
        "marrow": marrow.latest_registration(user),
        "organ": organ.latest_registration(user),
        "marrow_services": marrow,
        "organ_services": organ,
    }


register_section(Section("donors", 40, "donors/_my_section.html", _load))
