"""Evidence files and their rows stand or fall together: a rolled-back upload removes
its file, a committed one keeps it, and the daily sweep removes only files no row refers
to that are older than an upload in progress."""

import os
import time
from datetime import date, timedelta

import pytest

from portal.donations import evidence, ledger, spending
from portal.donations.errors import LedgerError
from portal.donations.models import Evidence
from portal.extensions import db
from tests.conftest import count
from tests.donations_helpers import donations_world, gift, person

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(app, make_branch, make_user, grant_role, tmp_path, monkeypatch):
    monkeypatch.setattr(evidence, "folder", lambda: str(tmp_path))
    w = donations_world(make_branch, make_user, grant_role)
    ledger.record(w.county, w.home, gift(30_000), person(), w.officer, "officer")
    w.expense = spending.record_expense(
        w.home, date(2026, 4, 5), 10_000, "冬季棉被", "12户困难家庭，凤县", w.officer, "officer"
    )
    db.session.commit()
    return w


def _files(root) -> list[str]:
    return [name for _d, _s, names in os.walk(root) for name in names]


def test_a_rolled_back_upload_leaves_no_file(world, tmp_path):
    evidence.store(world.expense, "photo", "现场.png", PNG, world.officer)
    assert len(_files(tmp_path)) == 1
    db.session.rollback()
    assert _files(tmp_path) == [] and count(Evidence) == 0


def test_a_refused_second_file_takes_the_first_with_it_and_a_commit_keeps_files(world, tmp_path):
    kept = evidence.store(world.expense, "invoice", "发票.png", PNG, world.officer)
    db.session.commit()
    evidence.store(world.expense, "photo", "现场.png", PNG, world.officer)
    with pytest.raises(LedgerError):
        evidence.store(world.expense, "photo", "病毒.exe", b"MZ\x90\x00", world.officer)
    db.session.rollback()
    assert _files(tmp_path) == [kept.storage_key]
    assert evidence.read(kept) == PNG


def test_the_sweep_removes_only_old_files_without_a_row(world, tmp_path):
    kept = evidence.store(world.expense, "photo", "现场.png", PNG, world.officer)
    db.session.commit()
    crashed = tmp_path / "ab" / ("ab" + "0" * 30)
    crashed.parent.mkdir(exist_ok=True)
    crashed.write_bytes(PNG)
    in_progress = tmp_path / "cd" / ("cd" + "1" * 30)
    in_progress.parent.mkdir(exist_ok=True)
    in_progress.write_bytes(PNG)
    hours_ago = time.time() - 2 * 3600
    for path in (crashed, evidence.path_of(kept)):
        os.utime(path, (hours_ago, hours_ago))
    assert evidence.sweep(timedelta(hours=1)) == [crashed.name]
    assert sorted(_files(tmp_path)) == sorted([kept.storage_key, in_progress.name])


def test_the_daily_command_sweeps_and_says_how_many(app, world, tmp_path):
    orphan = tmp_path / "ef" / ("ef" + "2" * 30)
    orphan.parent.mkdir()
    orphan.write_bytes(PNG)
    hours_ago = time.time() - 2 * 3600
    os.utime(orphan, (hours_ago, hours_ago))
    result = app.test_cli_runner().invoke(args=["donations", "sweep-evidence"])
    assert result.exit_code == 0, result.output
    assert "1 unreferenced evidence files removed" in result.output
    assert not orphan.exists()
