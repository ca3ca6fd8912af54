"""The approval engine: every kind of application (home-branch request, membership,
volunteering, hours claims, ...) registers with it and is decided through it.

- `models`: the columns every application has (`ReviewMixin`) and the pending tallies;
- `kinds`: the registry of kinds (`ReviewKind`, `register_kind`);
- `services`: deciding and withdrawing, the only code that changes an item's status;
- `inbox`: the scoped inbox queries; `tallies`: the rolled-up pending counts;
- `cli`: `flask review check-tallies` for the daily cron.

How to add a kind: README.md beside this file.
"""
