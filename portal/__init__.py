"""Boai portal: the application factory."""

import importlib
import logging
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    # Production unless told otherwise: a forgotten variable must never serve the
    # published development secrets or the dev outbox. `make run` sets development.
    config_name = config_name or os.environ.get("PORTAL_CONFIG", "production")
    config_class = CONFIGS[config_name]
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    if hasattr(config_class, "check"):
        config_class.check()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite queues writers on the file lock. Wait for it (a rush on the last seats
        # of a class) instead of failing with "database is locked" after pysqlite's 5 s.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": {"timeout": 30}}
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO)  # the log SMS backend prints codes here
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    if app.config["TRUSTED_PROXY_COUNT"]:
        # Behind the TLS proxy: take the client address and scheme from the proxies we
        # trust, or every visitor shares the proxy's IP (and its rate-limit budget).
        n = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

    _init_extensions(app)
    _register_blueprints(app)
    _init_request_hooks(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    import portal.models  # noqa: F401  (register every table)
    from portal.extensions import babel, cache, csrf, db, limiter, login_manager, migrate
    from portal.i18n import select_locale
    from portal.sessions import DatabaseSessionInterface
    from portal.transactions import init_transactions

    db.init_app(app)
    init_transactions(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    cache.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    app.session_interface = DatabaseSessionInterface()


# A package's __init__ holds only its blueprint; its views are imported here, so that
# importing a feature's models or services never drags in the views of another.
VIEW_MODULES = (
    "portal.main.views",
    "portal.accounts.auth",
    "portal.accounts.views",
    "portal.accounts.profile_views",
    "portal.accounts.session_views",
    "portal.consent.views",
    "portal.notifications.views",
    "portal.branches.views",
    "portal.branches.home_branch_views",
    "portal.admin.views",
    "portal.admin.inbox_views",
    "portal.admin.audit_views",
    "portal.cards.views",
    "portal.volunteering.views",
    "portal.volunteering.staff_views",
    "portal.volunteering.activity_views",
    "portal.volunteering.service_views",
    "portal.volunteering.staff_activity_views",
    "portal.membership.views",
    "portal.membership.staff_views",
    "portal.membership.group_views",
    "portal.membership.group_staff_views",
    "portal.donors.marrow_views",
    "portal.donors.organ_views",
    "portal.donors.staff_views",
    "portal.donors.memorial_views",
    "portal.training.views",
    "portal.training.staff_views",
    "portal.donations.views",
    "portal.donations.opendata_views",
    "portal.donations.trail_views",
    "portal.donations.staff_views",
    "portal.donations.staff_project_views",
    "portal.donations.staff_report_views",
    "portal.membership.import_views",
    "portal.volunteering.import_views",
)


def _register_blueprints(app: Flask) -> None:
    from portal import (
        accounts,
        admin,
        branches,
        cards,
        consent,
        donations,
        donors,
        main,
        membership,
        notifications,
        training,
        volunteering,
    )
    from portal.ids import init_ids

    init_ids(app)  # before the rules are added: each takes its converter then

    for name in VIEW_MODULES:
        importlib.import_module(name)
    for package in (main, accounts, consent, notifications, branches, admin, cards):
        app.register_blueprint(package.bp)
    for package in (membership, volunteering, training, donations):
        app.register_blueprint(package.bp)
        app.register_blueprint(package.staff_bp)
    app.register_blueprint(branches.public_bp)
    for blueprint in donors.BLUEPRINTS:
        app.register_blueprint(blueprint)


def _init_request_hooks(app: Flask) -> None:
    from portal import templating
    from portal.errors import register_error_handlers
    from portal.security import init_security

    init_security(app)
    register_error_handlers(app)
    templating.init_templating(app)


def _register_cli(app: Flask) -> None:
    from portal import cli

    cli.register(app)
