"""Signals the branch tree sends, so that what sits above it (the approval engine) can
follow a change without the tree importing it."""

from blinker import Namespace

_signals = Namespace()

# Sent by services.move_branch inside the moving transaction, before the subtree's
# paths are rewritten: branch, old_parent_path=..., new_parent_path=...
branch_moved = _signals.signal("branch-moved")
