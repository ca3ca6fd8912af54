"""WSGI entry point: `gunicorn wsgi:app` (PORTAL_CONFIG=production)."""

from portal import create_app

app = create_app()
