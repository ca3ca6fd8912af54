"""The audit log every feature writes to: `record()` (and its helpers) add an entry to
db.session, so it commits or rolls back with the action it describes. The staff pages
that read it live in admin/."""

from portal.audit import refusals  # noqa: F401  (audits refused access)
from portal.audit.log import (  # noqa: F401
    mask_id_numbers,
    record,
    record_export,
    record_for_person,
    sensitive_viewed,
    top_grants,
)
