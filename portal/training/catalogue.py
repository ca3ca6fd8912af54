"""The standard course catalogue (红十字救在身边). The migration seeds the same rows;
`ensure_catalogue()` adds any that are missing (tests, demo, `flask training courses`)."""

from sqlalchemy import select

from portal.extensions import db
from portal.training.models import AWARENESS, FIRST_AIDER, INSTRUCTOR, Course

# (code, kind, title_zh, title_en, hours, min age, certifies, exam, validity months,
#  prerequisite code, description_zh, description_en)
# fmt: off
STANDARD_COURSES = [
    ("JHY", FIRST_AIDER, "红十字救护员培训", "Red Cross certified first-aider course", 16, 16, True, True, 36, None,
     "学习心肺复苏、AED使用、气道异物梗阻、创伤救护（止血、包扎、固定、搬运）和常见急症处置，理论考试和操作考核均合格者获颁红十字救护员证，有效期三年。",
     "CPR, AED use, choking, trauma care (bleeding control, bandaging, splinting, moving a casualty) and common emergencies. Pass the theory and practical exams to receive the Red Cross first-aider certificate, valid three years."),
    ("PJ-CPR", AWARENESS, "心肺复苏与AED普及培训", "CPR and AED awareness", 4, 10, False, False, None, None,
     "4学时普及课程：识别心脏骤停、胸外按压、人工呼吸和自动体外除颤器（AED）的使用。只记录参训，不发证书。",
     "A four-hour awareness course: recognising cardiac arrest, chest compressions, rescue breaths and using an AED. Attendance is recorded; no certificate."),
    ("PJ-DROWN", AWARENESS, "防溺水安全普及培训", "Drowning prevention awareness", 4, 8, False, False, None, None,
     "面向学生和家长：防溺水\"六不\"、水边自救与安全施救、溺水者的现场急救。只记录参训。",
     "For pupils and parents: staying safe near water, self-rescue, reaching a person in the water safely and first aid for a drowning casualty. Attendance only."),
    ("PJ-ELDER", AWARENESS, "老年人急救普及培训", "First aid for older people", 4, 16, False, False, None, None,
     "面向老年人及照护者：跌倒、噎食、脑卒中和心梗的识别与处置，居家安全。只记录参训。",
     "For older people and carers: falls, choking, recognising stroke and heart attack, and safety at home. Attendance only."),
    ("SZ", INSTRUCTOR, "红十字应急救护师资培训", "Red Cross first-aid instructor course", 40, 18, True, True, 36, "JHY",
     "面向持有效救护员证者：教学方法、课程组织、考核标准和试讲，考核合格者获颁师资证书，有效期三年。",
     "For holders of a valid first-aider certificate: teaching methods, running a course, assessment standards and a practice lesson. Pass to receive the instructor certificate, valid three years."),
]
# fmt: on


def ensure_catalogue() -> list[Course]:
    """Add any standard course not yet present (found by code); leaves edited ones be."""
    existing = {c.code: c for c in db.session.scalars(select(Course))}
    for order, row in enumerate(STANDARD_COURSES):
        code, kind, tz, te, hours, age, cert, exam, months, prereq, dz, de = row
        if code in existing:
            continue
        course = Course(
            code=code,
            kind=kind,
            title_zh=tz,
            title_en=te,
            description_zh=dz,
            description_en=de,
            hours=hours,
            min_age=age,
            certifies=cert,
            has_exam=exam,
            pass_mark=80,
            validity_months=months,
            prerequisite=existing.get(prereq) if prereq else None,
            active=True,
            sort_order=order,
        )
        db.session.add(course)
        existing[code] = course
    db.session.flush()
    return active_courses()


def active_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.active).order_by(Course.sort_order)))


def certifying_courses() -> list[Course]:
    """The courses whose certificate an activity can require of its volunteers."""
    return [course for course in active_courses() if course.certifies]


def course_by_code(code: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.code == code))
