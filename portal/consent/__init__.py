"""Consent to process personal information (PIPL): one ledger every feature writes to,
a registry of the purposes asked for, the privacy policy and the citizen's "My consents"
page. Features call services.give() / withdraw() / is_given(); the views live in
views.py."""

from flask import Blueprint

bp = Blueprint("consent", __name__)
