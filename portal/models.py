"""Imports every model module so the metadata (and Alembic) sees all tables."""

from portal.accounts.models import RealNameProfile, ServerSession, SmsCode, User  # noqa: F401
from portal.audit.models import AuditEntry  # noqa: F401
from portal.branches.models import Branch, HomeBranchRequest, StaffRole  # noqa: F401
from portal.consent.models import ConsentRecord  # noqa: F401
from portal.donations.models import (  # noqa: F401
    Allocation,
    Donation,
    DonationTally,
    Evidence,
    Expense,
    Project,
)
from portal.donors.models import (  # noqa: F401
    MarrowRegistration,
    MemorialDonor,
    OrganRegistration,
    OrganWishVersion,
    SampleBooking,
    SampleSession,
)
from portal.membership.models import (  # noqa: F401
    GroupMember,
    GroupMembershipApplication,
    Member,
    MembershipApplication,
)
from portal.notifications.models import Notification  # noqa: F401
from portal.numbering.models import NumberSeries  # noqa: F401
from portal.review.models import PendingTally  # noqa: F401
from portal.training.models import (  # noqa: F401
    Attendance,
    Booking,
    Certificate,
    ClassDay,
    ClassSession,
    Course,
)
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
