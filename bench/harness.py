"""Shared benchmark plumbing: a fresh database, migrations, a gunicorn server on a free
loopback port, a logged-in cookie, and latency measurement (wrk, else a bounded Python
client). Everything stays on 127.0.0.1."""

import base64
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PG_HOST, PG_USER = "127.0.0.1", "postgres"


def bench_environment() -> dict[str, str]:
    """Production settings with throw-away secrets: the server runs as it would for real
    (no debug, no template reloading), only on loopback."""
    return {
        "PORTAL_CONFIG": "production",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "FIELD_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "FLASK_APP": "wsgi",
        # As production runs: rate limits and the dashboard's figures in Redis, shared by
        # the workers (a database of its own, so the tests' keys are never touched).
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
    }


def fresh_database(name: str = "boai_bench") -> tuple[str, str]:
    """A new empty database: PostgreSQL when it answers on loopback, else a SQLite file.
    Returns (url, a line saying which)."""
    if shutil.which("createdb") and _pg_ready():
        subprocess.run(
            ["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", name],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["createdb", "-h", PG_HOST, "-U", PG_USER, name], check=True, capture_output=True
        )
        return (
            f"postgresql+psycopg://{PG_USER}@{PG_HOST}:5432/{name}",
            f"PostgreSQL database {name}",
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.sqlite3"
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}", f"SQLite file {path} (PostgreSQL not reachable)"


def reuse_database(name: str = "boai_bench") -> tuple[str, str]:
    """The database a previous run loaded (to re-measure without re-loading)."""
    return (
        f"postgresql+psycopg://{PG_USER}@{PG_HOST}:5432/{name}",
        f"PostgreSQL database {name} (reused)",
    )


def _pg_ready() -> bool:
    if not shutil.which("pg_isready"):
        return False
    return subprocess.run(["pg_isready", "-h", PG_HOST, "-q"]).returncode == 0


def migrate(env: dict[str, str]) -> list[str]:
    """`flask db upgrade`: the benchmark measures the schema production gets."""
    done = subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit("flask db upgrade failed:\n" + done.stderr.strip()[-2000:])
    return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers on a free loopback port, for the `with` block."""

    def __init__(self, env: dict[str, str], workers: int = 2):
        self.env, self.workers = env, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited while starting")
            try:
                if fetch(self.base + "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def login_cookie(user, cookie_name: str) -> str:
    """A live server-side session for `user` (as tests/conftest.py `login` makes one):
    returns the Cookie header value. The caller commits."""
    import json

    from portal.accounts.models import ServerSession
    from portal.branches.scope import is_staff
    from portal.extensions import db
    from portal.sessions import hash_token

    token = secrets.token_urlsafe(32)
    staff = is_staff(user)
    data = {"_user_id": str(user.id), "_fresh": True, "_staff": staff}
    db.session.add(
        ServerSession(
            token_hash=hash_token(token), user_id=user.id, is_staff=staff, data=json.dumps(data)
        )
    )
    return f"{cookie_name}={token}"


def fetch(url: str, cookie: str | None = None, ip: str | None = None) -> tuple[int, str]:
    headers = {"Cookie": cookie} if cookie else {}
    if ip:
        headers["X-Forwarded-For"] = ip
    req = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (e.g. to the login page) is a failure here, not followed


@dataclass
class Measurement:
    median_ms: float
    requests: int
    errors: int
    tool: str


def measure(
    url: str,
    cookie: str | None = None,
    seconds: int = 10,
    connections: int = 2,
    warmup: int = 2,
    spread_ips: bool = False,
) -> Measurement:
    """Median latency of GET `url`, after a `warmup`-second warm-up. wrk when installed
    (bounded by `seconds`), else sequential Python requests (bounded by count and time).
    `spread_ips`: each request says it comes from a random address (X-Forwarded-For, for
    a server behind one trusted proxy), so a page's per-visitor rate limit is checked on
    every request, as for real visitors, without stopping the measurement."""
    if shutil.which("wrk"):
        _wrk(url, cookie, warmup, connections, spread_ips)
        return _wrk(url, cookie, seconds, connections, spread_ips)
    return _python_client(url, cookie, seconds, spread_ips=spread_ips)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


SPREAD_IPS_LUA = ROOT / "bench" / "spread_ips.lua"


def _wrk(
    url: str, cookie: str | None, seconds: int, connections: int, spread_ips: bool = False
) -> Measurement:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    if spread_ips:
        cmd += ["-s", str(SPREAD_IPS_LUA)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    median = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not median or not total:
        raise RuntimeError("could not read wrk output:\n" + out)
    return Measurement(
        median_ms=float(median.group(1)) * _UNITS[median.group(2)],
        requests=int(total.group(1)),
        errors=int(errors.group(1)) if errors else 0,
        tool=f"wrk -c{connections} -d{seconds}s",
    )


def _python_client(
    url: str, cookie: str | None, seconds: int, limit: int = 500, spread_ips: bool = False
) -> Measurement:
    def ip():
        return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"

    for _ in range(5):
        fetch(url, cookie, ip() if spread_ips else None)
    times, errors = [], 0
    deadline = time.monotonic() + seconds
    while len(times) < limit and time.monotonic() < deadline:
        start = time.perf_counter()
        status, _body = fetch(url, cookie, ip() if spread_ips else None)
        times.append((time.perf_counter() - start) * 1000)
        errors += status != 200
    return Measurement(
        statistics.median(times), len(times), errors, f"python sequential ({len(times)} requests)"
    )
