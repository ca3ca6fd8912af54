"""Staff import of existing people (members, volunteers) from an XLSX file: what both
imports share. Reading the sheet safely, the cell parsers (dates in the usual formats,
resident ID numbers as the profile checks them, mobile numbers), the people in the
file (found by their ID number's keyed hash, or new accounts) and the numbers they
keep or get.

The flow is always: `check()` reads the whole file and collects EVERY problem (row,
column, reason) without writing anything; only a report without problems may be given
to `write()`, which adds every row in the caller's one transaction (flush only; the
view commits, so a failure anywhere writes nothing).

People who have no account get one as they would by registering, minus what only they
can give: a user row with the mobile number (no password, phone not yet verified; they
sign in later with an SMS code to that number, as anyone may) and a real-name profile
(name, ID number encrypted, keyed hash, masked copy, birth date and sex read from the
number). No consent row is written: the branch's own paper records are the basis for
holding the data it imports, and the portal asks the person for the online consent the
first time they edit their profile (profiles.save_profile does).

Each kind (membership.imports, volunteering.imports) describes its columns and how
a checked row becomes its record (`Kind`).
"""

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from portal import audit, crypto
from portal.accounts import identity
from portal.accounts.identity import RESIDENT_ID, IdentityError
from portal.accounts.models import RealNameProfile, User
from portal.accounts.phone import InvalidPhone, normalise_phone
from portal.accounts.profiles import DOC_NUMBER_CONTEXT, document_index
from portal.branches.models import Branch
from portal.branches.scope import REVIEW_ROLES, covers, scope_paths
from portal.extensions import db
from portal.numbering.services import reserve_numbers, skip_past
from portal.textcheck import has_hidden_characters
from portal.timeutil import utcnow

# Files: what the upload form says and checks before openpyxl sees anything.
MAX_BYTES = 2 * 1024 * 1024 - 64 * 1024  # under MAX_CONTENT_LENGTH with the form around it
MAX_UNZIPPED = 60 * 1024 * 1024  # a zip bomb stops here, before any XML is parsed
MAX_ROWS = 20_000
MAX_COLUMNS = 60
LOOKUP_CHUNK = 500  # IN lists stay well under SQLite's and PostgreSQL's limits
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TEXT_MAX = 200
NUMBER_RE = re.compile(r"[A-Z0-9][A-Z0-9-]*")
YES = {"yes", "y", "1", "true", "是", "有", "同意", "√"}
NO = {"no", "n", "0", "false", "否", "无", "不同意", "×"}


class ImportRefused(ValueError):
    """The file as a whole cannot be read (not an XLSX, corrupt, too large, too many
    rows). `message` is translated text to show beside the upload field."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class CellProblem(ValueError):
    """One cell's value breaks a rule; `message` is translated text."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy string: the header cell in the template, in the page's language
    required: bool = False
    help: object = ""  # lazy string: what goes in it (the columns page)
    example: str = ""
    aliases: tuple[str, ...] = ()  # other headings branches' own sheets use


@dataclass
class Problem:
    row: int  # the sheet's row number, as Excel shows it (the header is row 1)
    column: object  # a column label (lazy) or "" for the whole row
    message: object


@dataclass
class Row:
    """One row as read: the person, the branch, the number and the kind's own values.
    A value that could not be read is None and its problem is in the report."""

    number_in_sheet: int
    name: str | None
    id_number: str | None
    birth_date: date | None
    sex: str | None
    phone: str | None
    branch_code: str | None
    number: str | None = None  # kept from the file, or None: a new one
    values: dict = field(default_factory=dict)
    branch: Branch | None = None
    index: str | None = None  # the ID number's keyed hash
    user_id: int | None = None  # an existing account


@dataclass
class Report:
    rows: list[Row]
    problems: list[Problem]
    total: int  # data rows read (blank rows skipped)

    @property
    def clean(self) -> bool:
        return not self.problems and self.total > 0


@dataclass
class Kind:
    """What differs between the member and the volunteer import."""

    key: str  # "members" | "volunteers": audit action "<key>_imported"
    columns: tuple[Column, ...]  # after the shared ones
    number_prefix: str  # "HY": the portal's own numbers are <prefix>-<branch code>-NNNNNN
    series: str  # "member": next_number's series "<series>:<branch code>"
    number_max: int
    model: type  # Member | Volunteer: one per user, unique number
    # (take) -> the kind's values; take(key, parser, *args, needed=False) reads one
    # cell, noting its problem (and giving None) when it is empty but needed or breaks
    # a rule
    parse: Callable[[Callable], dict]
    build: Callable[[Row, str, date], dict]  # (row, number, today) -> insert values
    already: Callable[[str], object]  # number -> "Already a member (HY-...)."
    # (values, birth date, today, problem) -> None: rules across cells that depend on
    # the person, e.g. a minor's guardian; problem(key, message) notes one
    check_person: Callable[[dict, date, date, Callable], None] | None = None
    # (rows, today) -> None: what else a written row brings (rows carry their user_id)
    after_write: Callable[[list[Row], date], None] | None = None


# --- the shared columns ----------------------------------------------------------------

NAME = Column("name", _l("Name"), True, _l("As on the ID card."), "张晓明", ("姓名", "名字"))
ID_NUMBER = Column(
    "id_number",
    _l("ID number"),
    True,
    _l(
        "18-character resident ID number (or Hong Kong, Macao, Taiwan residence permit). "
        "Format the column as text so Excel keeps every digit."
    ),
    "610302199001011234",
    ("身份证号", "身份证号码", "身份证", "证件号码", "公民身份号码", "id"),
)
PHONE = Column(
    "phone",
    _l("Mobile number"),
    True,
    _l("Mainland mobile number: they sign in with it."),
    "13912345678",
    ("手机", "手机号", "手机号码", "联系电话", "电话", "phone"),
)
BRANCH = Column(
    "branch_code",
    _l("Branch code"),
    True,
    _l("The code of their branch, inside your scope."),
    "610302",
    ("机构代码", "组织代码", "单位代码", "所属机构代码", "branch"),
)
SHARED = (NAME, ID_NUMBER, PHONE, BRANCH)


def columns(kind: Kind) -> tuple[Column, ...]:
    return SHARED + kind.columns


# --- cells -----------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as text: numbers without ".0", NFKC (full-width digits), trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


def plain(value, limit: int = TEXT_MAX) -> str:
    """Free text from a cell: no hidden characters, at most `limit` characters."""
    text = cell_text(value)
    if has_hidden_characters(text, multiline=False):
        raise CellProblem(_l("Please remove the special characters."))
    if len(text) > limit:
        raise CellProblem(_l("At most %(max)d characters.", max=limit))
    return text


_DATE_RE = re.compile(r"([0-9]{4}) *[-/.年] *([0-9]{1,2}) *[-/.月] *([0-9]{1,2}) *日?")
_COMPACT_DATE_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 (with its 1900 leap bug)


def parse_date(value) -> date:
    """A date cell: a real Excel date, or text or a number written 2024-03-05,
    2024/3/5, 2024.3.5, 2024年3月5日 or 20240305 (an Excel serial number such as
    45356 too, for a date column that lost its format)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise CellProblem(_l("Not a date. Write it like 2024-03-05."))
        if 1 <= value < 100_000:
            return date.fromordinal(_EXCEL_EPOCH + int(value))
    text = cell_text(value)
    match = _DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text)
    if match is None:
        raise CellProblem(_l("Not a date. Write it like 2024-03-05."))
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise CellProblem(_l("This date does not exist.")) from None


def parse_id_number(value, today: date) -> identity.ResidentId:
    """A resident ID number checked as the profile checks it (checksum with
    stdnum.cn.ric, birth date, region), and the person at least 14."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Excel keeps 15 significant digits: an 18-digit number typed into a number
        # cell has lost its last ones for good.
        raise CellProblem(
            _l(
                "Excel stored this ID number as a number and dropped its last digits. "
                "Format the column as text and type the number again."
            )
        )
    try:
        parsed = identity.parse_resident_id(cell_text(value), today)
        identity.check_minimum_age(parsed.birth_date, today)
    except IdentityError as exc:
        raise CellProblem(exc.message) from None
    return parsed


def parse_yes_no(value) -> bool:
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellProblem(_l("Write yes (是) or no (否)."))


def parse_phone(value) -> str:
    try:
        return normalise_phone(cell_text(value))
    except InvalidPhone as exc:
        raise CellProblem(exc.message) from None


def label_set(column: Column) -> set[str]:
    """Header texts that name `column`: its label in Chinese and English, and its key."""
    out = {column.key, *column.aliases}
    for locale in ("zh", "en"):
        with force_locale(locale):
            out.add(str(column.label))
    return {_header_key(v) for v in out}


def _header_key(text: str) -> str:
    # "姓名 *", "Name (required)", " ID NUMBER " all name the same column.
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\(.*?\)|\*", "", text)
    return re.sub(r"\s+", " ", text).strip()


# --- the file ----------------------------------------------------------------------------


def _open(data: bytes):
    from openpyxl import load_workbook

    if not data:
        raise ImportRefused(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ImportRefused(
            _l("The file is larger than %(mb)s MB. Please split it.", mb=MAX_BYTES // 1024 // 1024)
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise ImportRefused(_l("The file holds too much data. Please split it."))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise ImportRefused(NOT_XLSX) from None
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file; all mean the same
        raise ImportRefused(NOT_XLSX) from None


NOT_XLSX = _l(
    "This file cannot be read as an Excel workbook (.xlsx). Save it again in Excel as "
    '"Excel Workbook (*.xlsx)" and upload that file.'
)


def _sheet_rows(data: bytes) -> Iterator[tuple]:
    workbook = _open(data)
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ImportRefused(_l("The workbook has no sheet."))
        yield from sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    except ImportRefused:
        raise
    except Exception:
        raise ImportRefused(NOT_XLSX) from None
    finally:
        workbook.close()


def _map_header(header: tuple, cols: tuple[Column, ...], problems: list[Problem]) -> dict:
    """{column key: cell index}; a problem for each required column missing."""
    wanted = {c.key: label_set(c) for c in cols}
    found: dict[str, int] = {}
    for index, cell in enumerate(header or ()):
        key = _header_key(cell_text(cell))
        for column_key, names in wanted.items():
            if key in names and column_key not in found:
                found[column_key] = index
    for column in cols:
        if column.required and column.key not in found:
            problems.append(Problem(1, column.label, _l("This column is missing.")))
    return found


def check(kind: Kind, data: bytes, actor, today: date) -> Report:
    """Read the whole file and return every row and every problem; writes nothing.
    Raises ImportRefused when the file itself cannot be read."""
    cols = columns(kind)
    problems: list[Problem] = []
    rows_iter = _sheet_rows(data)
    header = next(rows_iter, None)
    if header is None:
        raise ImportRefused(_l("The file is empty."))
    positions = _map_header(header, cols, problems)
    if problems:
        return Report([], problems, 0)
    by_key = {c.key: c for c in cols}
    rows: list[Row] = []
    total = 0
    for sheet_row, raw in enumerate(rows_iter, start=2):
        cells = {key: raw[i] if i < len(raw) else None for key, i in positions.items()}
        if all(cell_text(v) == "" for v in cells.values()):
            continue  # blank lines between blocks of data are common
        total += 1
        if total > MAX_ROWS:
            raise ImportRefused(
                _l("The file has more than %(n)d rows. Please split it.", n=MAX_ROWS)
            )
        rows.append(_check_row(kind, by_key, cells, sheet_row, problems, today))
    if total == 0:
        problems.append(Problem(2, "", _l("The file has no rows under the header.")))
    _check_against_database(kind, rows, actor, problems)
    problems.sort(key=lambda p: p.row)  # stable: a row's problems stay in column order
    return Report(rows, problems, total)


def _check_row(kind, by_key, cells, sheet_row, problems, today) -> Row | None:
    def problem(key: str, message) -> None:
        problems.append(Problem(sheet_row, by_key[key].label, message))

    def take(key: str, parser, *args, needed: bool = False):
        value = cells.get(key)
        if cell_text(value) == "":
            if by_key[key].required or needed:
                problem(key, _l("This cell is empty."))
            return None
        try:
            return parser(value, *args)
        except CellProblem as exc:
            problem(key, exc.message)
            return None

    def name_of(value):
        try:
            return identity.normalise_name(cell_text(value))
        except IdentityError as exc:
            raise CellProblem(exc.message) from None

    name = take("name", name_of)
    resident = take("id_number", parse_id_number, today)
    phone = take("phone", parse_phone)
    code = take("branch_code", plain, 20)
    number = take("number", _parse_number, kind.number_max) if "number" in by_key else None
    values = kind.parse(take)
    if kind.check_person is not None and resident is not None:
        kind.check_person(values, resident.birth_date, today, problem)
    return Row(
        number_in_sheet=sheet_row,
        name=name,
        id_number=resident.number if resident else None,
        birth_date=resident.birth_date if resident else None,
        sex=resident.sex if resident else None,
        phone=phone,
        branch_code=code or None,
        number=number,
        values=values,
    )


def _parse_number(value, limit: int) -> str:
    text = cell_text(value).upper()
    if len(text) > limit or not NUMBER_RE.fullmatch(text):
        raise CellProblem(
            _l("A number has at most %(max)d letters, digits and hyphens.", max=limit)
        )
    return text


def _chunks(values: list) -> Iterator[list]:
    for i in range(0, len(values), LOOKUP_CHUNK):
        yield values[i : i + LOOKUP_CHUNK]


def _lookup(stmt_for, values) -> list:
    values = list(dict.fromkeys(values))
    out = []
    for chunk in _chunks(values):
        out.extend(db.session.execute(stmt_for(chunk)).all())
    return out


def _check_against_database(kind: Kind, rows: list[Row], actor, problems) -> None:
    """Branches (known, open, in scope), people (already in the portal? one account per
    ID number and per phone), numbers (free?) and duplicates inside the file."""
    label = {c.key: c.label for c in columns(kind)}

    def problem(row: Row, key: str, message) -> None:
        problems.append(Problem(row.number_in_sheet, label[key], message))

    branches = {
        b.code: b
        for (b,) in _lookup(
            lambda c: select(Branch).where(Branch.code.in_(c)),
            [r.branch_code for r in rows if r.branch_code],
        )
    }
    paths = scope_paths(actor, REVIEW_ROLES)
    for row in rows:
        if row.id_number:
            row.index = document_index(RESIDENT_ID, row.id_number)
    profiles = {
        index: (user_id, full_name, phone)
        for index, user_id, full_name, phone in _lookup(
            lambda c: (
                select(
                    RealNameProfile.doc_number_hmac,
                    RealNameProfile.user_id,
                    RealNameProfile.full_name,
                    User.phone,
                )
                .join(User, User.id == RealNameProfile.user_id)
                .where(RealNameProfile.doc_number_hmac.in_(c))
            ),
            [r.index for r in rows if r.index],
        )
    }
    phones = dict(
        _lookup(
            lambda c: select(User.phone, User.id).where(User.phone.in_(c)),
            [r.phone for r in rows if r.phone],
        )
    )
    taken_users = dict(
        _lookup(
            lambda c: select(kind.model.user_id, kind.model.number).where(
                kind.model.user_id.in_(c)
            ),
            [p[0] for p in profiles.values()],
        )
    )
    taken_numbers = {
        n
        for (n,) in _lookup(
            lambda c: select(kind.model.number).where(kind.model.number.in_(c)),
            [r.number for r in rows if r.number],
        )
    }
    seen_person: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    seen_number: dict[str, int] = {}
    for row in rows:
        branch = branches.get(row.branch_code) if row.branch_code else None
        if row.branch_code is None:
            pass  # its problem is noted already
        elif branch is None:
            problem(row, "branch_code", _l("Unknown branch code."))
        elif not covers(paths, branch):
            problem(row, "branch_code", _l("This branch is outside your scope."))
        elif not branch.is_open:
            problem(row, "branch_code", _l("This branch is closed."))
        elif branch.level == "national":
            problem(row, "branch_code", _l("People belong to a branch below the national society."))
        row.branch = branch
        if row.index:
            first = seen_person.setdefault(row.index, row.number_in_sheet)
            if first != row.number_in_sheet:
                problem(row, "id_number", _l("The same person as row %(row)d.", row=first))
        if row.phone:
            first = seen_phone.setdefault(row.phone, row.number_in_sheet)
            if first != row.number_in_sheet:
                problem(row, "phone", _l("The same mobile number as row %(row)d.", row=first))
        existing = profiles.get(row.index) if row.index else None
        if existing is not None:
            user_id, full_name, _phone = existing
            row.user_id = user_id
            if row.name and full_name != row.name:
                problem(row, "name", _l("The portal knows this ID number under another name."))
            if user_id in taken_users:
                problem(row, "id_number", kind.already(taken_users[user_id]))
        elif row.index and row.phone in phones:
            problem(
                row, "phone", _l("This mobile number belongs to another account in the portal.")
            )
        if row.number:
            first = seen_number.setdefault(row.number, row.number_in_sheet)
            if first != row.number_in_sheet:
                problem(row, "number", _l("The same number as row %(row)d.", row=first))
            elif row.number in taken_numbers:
                problem(row, "number", _l("This number is already in use."))
            elif branch is not None and _series_code(kind, row.number) not in (None, branch.code):
                problem(row, "number", _l("This number belongs to another branch's series."))


_SERIAL = re.compile(r"([A-Z]+)-([0-9A-Z]+)-([0-9]{6})")


def _series_code(kind: Kind, number: str) -> str | None:
    """The branch code in a number of the portal's own form (HY-610302-000012)."""
    match = _SERIAL.fullmatch(number)
    if match is None or match.group(1) != kind.number_prefix:
        return None
    return match.group(2)


# --- writing -----------------------------------------------------------------------------


@dataclass
class Written:
    rows: int
    new_accounts: int
    kept_numbers: int
    new_numbers: int
    branches: int


def write(kind: Kind, report: Report, actor, today: date) -> Written:
    """Add every row of a clean report: accounts and profiles for the people new to the
    portal, then the kind's records with their kept or new numbers. Flushes only; the
    caller commits once (or rolls back on IntegrityError: someone else took a number or
    a person in the meantime)."""
    if not report.clean:
        raise ValueError("only a clean report can be written")
    now = utcnow()
    rows = report.rows
    new = [r for r in rows if r.user_id is None]
    if new:
        ids = db.session.execute(
            insert(User).returning(User.id, User.phone, sort_by_parameter_order=True),
            [{"phone": r.phone, "created_at": now, "locale": None} for r in new],
        ).all()
        for row, (user_id, _phone) in zip(new, ids, strict=True):
            row.user_id = user_id
        db.session.execute(
            insert(RealNameProfile),
            [
                {
                    "user_id": r.user_id,
                    "full_name": r.name,
                    "doc_type": RESIDENT_ID,
                    "doc_number_enc": crypto.encrypt(r.id_number, DOC_NUMBER_CONTEXT),
                    "doc_number_hmac": r.index,
                    "doc_number_masked": identity.mask_document(RESIDENT_ID, r.id_number),
                    "birth_date": r.birth_date,
                    "sex": r.sex,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in new
            ],
        )
    numbers = _numbers(kind, rows)
    db.session.execute(
        insert(kind.model), [kind.build(r, numbers[r.number_in_sheet], today) for r in rows]
    )
    if kind.after_write is not None:
        kind.after_write(rows, today)
    written = Written(
        rows=len(rows),
        new_accounts=len(new),
        kept_numbers=sum(1 for r in rows if r.number),
        new_numbers=sum(1 for r in rows if not r.number),
        branches=len({r.branch.id for r in rows}),
    )
    audit.record_for_person(
        f"{kind.key}_imported",
        actor,
        REVIEW_ROLES,
        actor=actor,
        object_kind=kind.key,
        changes=written.__dict__.copy(),
    )
    db.session.flush()
    return written


def _numbers(kind: Kind, rows: list[Row]) -> dict[int, str]:
    """Each row's number: the one it keeps, or the next of its branch's series. A kept
    number of the portal's own form moves its series past it, so a later approval can
    never be given the same number."""
    out: dict[int, str] = {}
    highest: dict[str, int] = {}
    wanting: dict[str, list[Row]] = {}
    for row in rows:
        code = row.branch.code
        if row.number:
            out[row.number_in_sheet] = row.number
            if _series_code(kind, row.number) == code:
                serial = int(row.number[-6:])
                highest[code] = max(highest.get(code, 0), serial)
        else:
            wanting.setdefault(code, []).append(row)
    for code, serial in sorted(highest.items()):
        skip_past(f"{kind.series}:{code}", serial)
    for code, waiting in sorted(wanting.items()):
        serials = reserve_numbers(f"{kind.series}:{code}", len(waiting))
        for row, serial in zip(waiting, serials, strict=True):
            out[row.number_in_sheet] = f"{kind.number_prefix}-{code}-{serial:06d}"
    return out


def template_header(kind: Kind) -> list[str]:
    return [str(c.label) for c in columns(kind)]


def template_example(kind: Kind) -> list[str]:
    return [c.example for c in columns(kind)]
