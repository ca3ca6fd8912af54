"""The charter text a member agrees to: a short summary of the Red Cross Society of
China's charter on members, versioned. The version agreed to is kept on the application;
change CHARTER_VERSION whenever the wording changes."""

from flask_babel import lazy_gettext as _l

CHARTER_VERSION = "2026-1"

CHARTER_POINTS = (
    _l(
        "The Red Cross Society of China is the unified Red Cross organisation of the "
        "country. It upholds humanity, impartiality, neutrality, independence, voluntary "
        "service, unity and universality, and the spirit of humanity, fraternity and "
        "dedication."
    ),
    _l(
        "Members have the right to vote and be elected in their branch, to take part in "
        "its activities and training, to make suggestions and to oversee its work, and "
        "to leave freely."
    ),
    _l(
        "Members abide by the charter and the decisions of the society, take part in "
        "its activities, spread knowledge of the Red Cross movement, and pay the "
        "membership fee where the branch asks for one."
    ),
)
