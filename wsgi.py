"""WSGI entry point: `gunicorn wsgi:app`. Production settings unless PORTAL_CONFIG says
otherwise (`make run` sets development)."""

from portal import create_app

app = create_app()
