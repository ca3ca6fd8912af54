"""What pages call the states of bookings, outcomes and restrictions."""

from flask_babel import lazy_gettext as _l

from portal.training.forms import RESTRICTION_CHOICES

BOOKING_LABELS = {
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("On the waitlist"),
    "offered": _l("Seat offered to you"),
    "withdrawn": _l("Cancelled"),
    "offer_lapsed": _l("Offer lapsed"),
    "session_cancelled": _l("Class cancelled"),
}
OUTCOME_LABELS = {
    "passed": _l("Passed"),
    "failed": _l("Not passed"),
    "attended": _l("Attended"),
    "no_show": _l("No show"),
}
RESTRICTION_LABELS = dict(RESTRICTION_CHOICES)
