"""Imports every model module so the metadata (and Alembic) sees all tables."""

from portal.accounts.models import RealNameProfile, ServerSession, SmsCode, User  # noqa: F401
from portal.audit.models import AuditEntry  # noqa: F401
from portal.branches.models import Branch, HomeBranchRequest, StaffRole  # noqa: F401
from portal.consent.models import ConsentRecord  # noqa: F401
from portal.membership.models import Member, MembershipApplication  # noqa: F401
from portal.notifications.models import Notification  # noqa: F401
from portal.numbering.models import NumberSeries  # noqa: F401
from portal.review.models import PendingTally  # noqa: F401
from portal.volunteering.models import (  # noqa: F401
    Volunteer,
    VolunteerApplication,
    VolunteerTeam,
    VolunteerTeamMember,
)
from portal.volunteering.service_models import (  # noqa: F401
    HoursClaim,
    ServiceCertificate,
    ServiceHours,
    ShiftSignup,
    VolunteerActivity,
    VolunteerServiceArea,
    VolunteerServiceTotal,
    VolunteerServiceYear,
    VolunteerShift,
)
