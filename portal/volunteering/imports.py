"""Importing existing volunteers from XLSX (staff): the volunteer columns and how a
checked row becomes a Volunteer. The reading, checking and writing are
portal.importing's. People under 14 are refused (as at sign-up); a volunteer of 14 to
17 needs a parent or guardian (name and mobile, kept encrypted on the volunteer) and
the staff's word that the branch holds that guardian's signed consent, as sign-up
needs the guardian's consent on the page."""

import json
import re
from datetime import date, datetime
from functools import lru_cache

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert

from portal import crypto, importing
from portal.accounts.identity import age_on
from portal.cards.services import new_token
from portal.consent.models import GIVEN, ConsentRecord
from portal.consent.purposes import PURPOSES, VOLUNTEER_GUARDIAN
from portal.extensions import db
from portal.importing import CellProblem, Column, Kind, Row
from portal.timeutil import local_to_utc, utcnow
from portal.volunteering.models import ACTIVE, Volunteer, encrypt_guardian
from portal.volunteering.services import (
    ADULT_AGE,
    DAYS,
    SERVICE_AREAS,
    SLOTS,
    TEXT_LIMITS,
    TIMES,
)

_LIST_SPLIT = re.compile(r"[、,，;；/|\n]+")

NUMBER = Column(
    "number",
    _l("Volunteer number"),
    help=_l(
        "Their existing volunteer number, kept as it is. Leave empty for a new number "
        "from the branch's series."
    ),
    example="ZY-610302-000001",
    aliases=("志愿者编号", "编号"),
)
REGISTERED = Column(
    "registered_on",
    _l("Registered on"),
    help=_l("When the branch registered them. Empty: today."),
    example="2023/6/1",
    aliases=("注册日期", "注册时间"),
)
AREAS = Column(
    "service_areas",
    _l("Service areas"),
    True,
    _l(
        "One or more, separated by 、 or commas: emergency first aid, disaster relief, "
        "blood, marrow and organ donation promotion, community care (Boai Home), youth "
        "and schools, elderly care, water safety, publicity."
    ),
    "应急救护、养老服务",
    ("服务领域", "服务类别", "服务方向"),
)
AVAILABILITY = Column(
    "availability",
    _l("Availability"),
    help=_l(
        "Optional, separated by 、 or commas: weekdays or weekends, each morning, "
        "afternoon or evening (for example: weekends morning)."
    ),
    example="",
    aliases=("服务时间", "可服务时间"),
)
SKILLS = Column("skills", _l("Skills and certificates"), help=_l("Optional."), example="")
LANGUAGES = Column("languages", _l("Languages"), help=_l("Optional."), example="")
CONTACT_NAME = Column(
    "emergency_name",
    _l("Emergency contact"),
    help=_l("Optional: their name."),
    example="张建国",
    aliases=("紧急联系人", "紧急联系人姓名"),
)
CONTACT_RELATION = Column(
    "emergency_relation",
    _l("Relation"),
    help=_l("Optional: how they are related."),
    example="父亲",
    aliases=("关系", "与本人关系"),
)
CONTACT_PHONE = Column(
    "emergency_phone",
    _l("Emergency contact's mobile"),
    help=_l("Needed when an emergency contact is named."),
    example="13812345678",
    aliases=("紧急联系人电话", "紧急联系人手机", "紧急联系电话"),
)

GUARDIAN_NAME = Column(
    "guardian_name",
    _l("Parent or guardian"),
    help=_l("Needed for a volunteer under 18: their name."),
    example="",
    aliases=("监护人", "监护人姓名"),
)
GUARDIAN_PHONE = Column(
    "guardian_phone",
    _l("Parent or guardian's mobile"),
    help=_l("Needed for a volunteer under 18."),
    example="",
    aliases=("监护人电话", "监护人手机", "监护人手机号"),
)
GUARDIAN_CONSENT = Column(
    "guardian_consent",
    _l("Guardian's signed consent on file"),
    help=_l(
        "For a volunteer under 18: yes (是) when the branch holds the parent or "
        "guardian's signed consent form."
    ),
    example="",
    aliases=("监护人同意书", "监护人同意"),
)


def _key(text: str) -> str:
    return re.sub(r"[\s()（）]", "", text.lower())


@lru_cache(maxsize=1)
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """(service area names -> key, availability names -> slot key), both languages."""
    areas = {_key(k): k for k in SERVICE_AREAS}
    slots = {_key(k): k for k in SLOTS}
    for locale in ("zh", "en"):
        with force_locale(locale):
            for key, label in SERVICE_AREAS.items():
                areas[_key(str(label))] = key
            for day, day_label in DAYS.items():
                for t, time_label in TIMES.items():
                    slots[_key(f"{day_label}{time_label}")] = f"{day}_{t}"
    # Short forms branches write.
    areas.update(
        {
            "应急救护": "first_aid",
            "救护": "first_aid",
            "博爱家园": "boai_home",
            "社区服务": "boai_home",
            "三献宣传": "donation_promotion",
            "无偿献血": "donation_promotion",
            "青少年": "youth_schools",
            "养老服务": "elderly_care",
            "助老": "elderly_care",
            "水上救生": "water_safety",
            "防溺水": "water_safety",
            "宣传": "publicity",
            "救灾": "disaster_relief",
            "备灾救灾": "disaster_relief",
        }
    )
    return areas, slots


def _list(value, table: dict[str, str], message) -> list[str]:
    keys = []
    for part in _LIST_SPLIT.split(importing.cell_text(value)):
        if not part.strip():
            continue
        key = table.get(_key(part))
        if key is None:
            raise CellProblem(message % {"name": part.strip()[:30]})
        keys.append(key)
    return keys


def _areas(value) -> list[str]:
    keys = _list(value, _names()[0], _l("Unknown service area: %(name)s."))
    if not keys:
        raise CellProblem(_l("This cell is empty."))
    return keys


def _slots(value) -> list[str]:
    return _list(value, _names()[1], _l("Unknown time: %(name)s."))


def _limited(limit: int):
    return lambda value: importing.plain(value, limit)


def _parse(take) -> dict:
    values = {
        "registered_on": take("registered_on", importing.parse_date),
        "service_areas": take("service_areas", _areas) or [],
        "availability": take("availability", _slots) or [],
        "skills": take("skills", _limited(TEXT_LIMITS["skills"])) or None,
        "languages": take("languages", _limited(TEXT_LIMITS["languages"])) or None,
        "emergency_name": take("emergency_name", _limited(TEXT_LIMITS["emergency_name"])),
        "emergency_relation": take(
            "emergency_relation", _limited(TEXT_LIMITS["emergency_relation"])
        ),
        "emergency_phone": take("emergency_phone", importing.parse_phone),
        "guardian_name": take("guardian_name", _limited(TEXT_LIMITS["emergency_name"])),
        "guardian_phone": take("guardian_phone", importing.parse_phone),
        "guardian_consent": take("guardian_consent", importing.parse_yes_no),
    }
    # A contact is a name and a mobile number: one without the other cannot be called.
    if values["emergency_name"] and values["emergency_phone"] is None:
        take("emergency_phone", importing.parse_phone, needed=True)
    if values["emergency_phone"] and not values["emergency_name"]:
        take("emergency_name", importing.plain, needed=True)
    return values


def _minor(birth_date: date, today: date) -> bool:
    return age_on(birth_date, today) < ADULT_AGE


def _check_person(values: dict, birth_date: date, today: date, problem) -> None:
    """Under 18 on the import day: the guardian's name, mobile and consent are needed."""
    if not _minor(birth_date, today):
        return
    for key in ("guardian_name", "guardian_phone"):
        if values[key] is None:
            problem(key, _l("Needed for a volunteer under 18."))
    if values["guardian_consent"] is not True:
        problem(
            "guardian_consent",
            _l("Under 18: write yes once the branch holds the guardian's signed consent."),
        )


def _record_guardian_consents(rows: list[Row], today: date) -> None:
    """A minor's guardian consent goes into the consent ledger as given on the branch's
    paper form (no address), so the volunteer finds it under "My consents" and can
    withdraw it like one given on the page."""
    minors = [r for r in rows if _minor(r.birth_date, today)]
    if not minors:
        return
    version = PURPOSES[VOLUNTEER_GUARDIAN].version
    now = utcnow()
    db.session.execute(
        insert(ConsentRecord),
        [
            {
                "user_id": r.user_id,
                "purpose": VOLUNTEER_GUARDIAN,
                "version": version,
                "action": GIVEN,
                "at": now,
                "ip": None,
            }
            for r in minors
        ],
    )


def _registered_at(day: date | None) -> datetime:
    if day is None:
        return utcnow()
    return local_to_utc(day)  # midnight in Shanghai that day


def _build(row: Row, number: str, today: date) -> dict:
    v = row.values
    contact = {
        "name": v["emergency_name"] or "",
        "relation": v["emergency_relation"] or "",
        "phone": v["emergency_phone"] or "",
    }
    at = _registered_at(v["registered_on"])
    return {
        "user_id": row.user_id,
        "branch_id": row.branch.id,
        "number": number,
        "card_token": new_token(),
        "status": ACTIVE,
        "registered_at": at,
        "updated_at": utcnow(),
        "service_areas": ",".join(k for k in SERVICE_AREAS if k in v["service_areas"]),
        "availability": ",".join(s for s in SLOTS if s in v["availability"]),
        "skills": v["skills"],
        "languages": v["languages"],
        "emergency_contact_enc": crypto.encrypt(
            json.dumps(contact, ensure_ascii=False), "volunteer_emergency"
        ),
        "health_enc": None,
        **_guardian(v, row.birth_date, today),
    }


def _guardian(v: dict, birth_date: date, today: date) -> dict:
    if not _minor(birth_date, today):
        return {"guardian_enc": None, "guardian_consent_at": None}
    guardian = {"name": v["guardian_name"], "phone": v["guardian_phone"]}
    return {"guardian_enc": encrypt_guardian(guardian), "guardian_consent_at": utcnow()}


KIND = Kind(
    key="volunteers",
    columns=(
        NUMBER,
        REGISTERED,
        AREAS,
        AVAILABILITY,
        SKILLS,
        LANGUAGES,
        CONTACT_NAME,
        CONTACT_RELATION,
        CONTACT_PHONE,
        GUARDIAN_NAME,
        GUARDIAN_PHONE,
        GUARDIAN_CONSENT,
    ),
    number_prefix="ZY",
    series="volunteer",
    number_max=30,
    model=Volunteer,
    parse=_parse,
    build=_build,
    already=lambda number: _l("Already a registered volunteer (%(number)s).", number=number),
    check_person=_check_person,
    after_write=_record_guardian_consents,
)
