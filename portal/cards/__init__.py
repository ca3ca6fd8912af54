"""E-cards and their public verification: member cards, volunteer cards (and later donor
cards and certificates) carry a QR code that opens a page showing only what is safe to
show. Features register a `CardKind` (cards.services); the verification pages here
answer for every kind."""

from flask import Blueprint

bp = Blueprint("cards", __name__)
