"""Demo data for `make run`. Each module's `load()` is idempotent (get-or-create),
adds to db.session and returns lines to print (the demo logins)."""

import importlib

from portal.extensions import db

# One password for every demo login, printed by `make run`. Never used outside demo data.
DEMO_PASSWORD = "hongshizi-demo-2026"

# Order matters: later loaders use what earlier ones made.
LOADERS = [
    "portal.demo.branches",
    "portal.demo.accounts",
    "portal.demo.staff",
    "portal.demo.workbench",
    "portal.demo.volunteers",
    "portal.demo.members",
    "portal.demo.groups",
    "portal.demo.service",
    "portal.demo.donors",
    "portal.demo.training",
    "portal.demo.donations",
]


def load_all() -> list[str]:
    lines: list[str] = []
    for name in LOADERS:
        module = importlib.import_module(name)
        lines.extend(module.load())
        db.session.commit()
    return lines
