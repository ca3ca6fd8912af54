"""Signals the branch tree sends, so that what sits above it (the approval engine) can
follow a change without the tree importing it."""

from blinker import Namespace

_signals = Namespace()

# Sent by services.move_branch inside the moving transaction, before the subtree's
# paths are rewritten: branch, old_parent_path=..., new_parent_path=...
branch_moved = _signals.signal("branch-moved")

# Sent by scope.py when it refuses a staff member an object that exists in a branch
# outside their scope (the caller answers 404 as for a missing object):
# user, object_kind=..., object_id=..., branch_id=<the object's branch>.
access_refused = _signals.signal("access-refused")
