"""Imports every model module so the metadata (and Alembic) sees all tables."""

from portal.accounts.models import RealNameProfile, SmsCode, User  # noqa: F401
from portal.admin.models import AuditEntry  # noqa: F401
from portal.branches.attachments import BranchAttachmentRequest  # noqa: F401
from portal.branches.models import Branch, StaffRole  # noqa: F401
from portal.notifications.models import Notification  # noqa: F401
from portal.sessions import ServerSession  # noqa: F401
