"""Abuse and faults against a real server (uvicorn on 127.0.0.1): sign-in floods, bodies
too large or sent before signing in, uploads too long or with control characters, files
left behind, server paths in messages, formulas in CSV cells, bad parameters.

Each test names the abuse it plays; the issue that listed them measured what the server
did before (all attempts checked, a 200 MB anonymous body written to disk, ...).
"""

from __future__ import annotations

import io
import re
import socket
import stat
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from cardiffmodel.web.accounts import Accounts
from cardiffmodel.web.auth import LoginLimiter
from cardiffmodel.web.database import Database
from cardiffmodel.web.downloads import spreadsheet_safe, to_csv
from cardiffmodel.web.uploads import Limits

SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options")


# ---- helpers: a browser's sign-in, by hand (the session cookie is Secure, and httpx keeps
# Secure cookies for https only) ---------------------------------------------------------


def _cookie(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        found = re.match(rf"{name}=([^;]*)", header)
        if found:
            return found.group(1)
    return None


def _login_form(base: str) -> tuple[str, str]:
    """The double-submit token of a sign-in form, as (cookie, form field)."""
    page = httpx.get(f"{base}/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return _cookie(page, "cardiff_login"), token


def _sign_in(base: str, username: str, password: str, form=None) -> httpx.Response:
    cookie, token = form or _login_form(base)
    return httpx.post(
        f"{base}/login",
        data={"username": username, "password": password, "login_token": token},
        headers={"Cookie": f"cardiff_login={cookie}"},
    )


class Session:
    """A signed-in user of the live server: their cookie and CSRF token on every request."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        signed_in = _sign_in(base, username, password)
        assert signed_in.status_code == 303, signed_in.text
        self.cookie = f"cardiff_session={_cookie(signed_in, 'cardiff_session')}"
        self.csrf = self.get("/api/me").json()["csrf_token"]

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.base + path, headers={"Cookie": self.cookie}, timeout=60, **kw)

    def upload(self, source: str, name: str, data: bytes, path: str = "/api/upload"):
        return httpx.post(
            self.base + path,
            data={"source": source, "csrf_token": self.csrf},
            files={"file": (name, data)},
            headers={"Cookie": self.cookie, "X-CSRF-Token": self.csrf},
            timeout=120,
        )

    def finished(self, job: dict, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self.get(job["status_url"]).json()
            if found["status"] in ("done", "failed") or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


def _raw_request(base: str, head: str, body: bytes = b"", read_after: float = 5.0) -> bytes:
    """Send a request's head and the start of its body over a socket and read the answer,
    without sending the rest of the body the head announced."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_after) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
    return answer


def _extract(folder: Path, rows: list[dict[str, str]] | None = None, n: int = 5) -> bytes:
    """A new monthly extract for the uhw source in the layout of its demo files, with
    ``rows`` overriding cells of the first rows."""
    import csv

    template = sorted((folder / "extracts/ed/uhw").glob("*.csv"))[-1]
    lines = template.read_text(encoding="utf-8-sig").splitlines()
    header = next(csv.reader([lines[0]]))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    stamp = time.monotonic_ns() % 10**9
    for i, line in enumerate(lines[1 : n + 1]):
        fields = next(csv.reader([line]))
        fields[0] = f"Z{stamp}{i:04d}"
        for column, value in (rows[i] if rows and i < len(rows) else {}).items():
            fields[header.index(column)] = value
        writer.writerow(fields)
    return out.getvalue().encode()


def _xlsx(rows: int, cell: str = "1") -> bytes:
    """A minimal workbook of ``rows`` rows (written as XML by hand: openpyxl would take
    minutes for a million rows; this takes a second and compresses as Excel's does)."""
    sheet = io.StringIO()
    sheet.write(
        '<?xml version="1.0" encoding="UTF-8"?><worksheet '
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    for r in range(1, rows + 1):
        sheet.write(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{cell}</t></is></c></row>')
    sheet.write("</sheetData></worksheet>")
    main = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType='
            '"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension='
            '"xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application'
            '/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{main}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxml'
            f'formats.org/spreadsheetml/2006/main" xmlns:r="{main}"><sheets><sheet name='
            '"Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{main}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet.getvalue(),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            book.writestr(name, text)
    return out.getvalue()


def _uploads_left(folder: Path) -> list[Path]:
    root = folder / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


class CountingHasher(PasswordHasher):
    """The tests' fast hasher, counting the passwords it checks."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.checked = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):
        with self._lock:
            self.checked += 1
        time.sleep(0.05)  # as slow as a real hash, so that parallel attempts overlap
        return super().verify(hash, password)


class BodyCounter:
    """Wraps an app and counts the request-body bytes it has read."""

    def __init__(self, app):
        self.app = app
        self.state = app.state
        self.read = 0

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_project(demo_project, tmp_path_factory) -> Path:
    """A copy of the demo that this module's uploads may change, with a user of the CRI
    (whose extracts are XLSX) beside the tests' usual users."""
    import shutil

    folder = tmp_path_factory.mktemp("abuse") / "project"
    shutil.copytree(demo_project, folder)
    accounts = Accounts(Database.in_project(folder), PasswordHasher(1, 1024, 1))
    accounts.add_user("cri_nurse", "correct horse battery staple", "health", "CRI", ["7A4CR"])
    return folder


@pytest.fixture(scope="module")
def live(live_project, web):
    """The dashboard over ``live_project`` on a real server, with small upload limits so
    that the limits can be shown with small files; yields (base URL, app, counter)."""
    app = web.make_app(live_project, upload_limits=Limits(bytes=8 * 2**20, rows=1000))
    counter = BodyCounter(app)
    with web.serving(counter) as base:
        yield base, app, counter


@pytest.fixture(scope="module")
def nurse(live, web) -> Session:
    return Session(live[0], "nurse", web.password)


# ---- sign-in flood ---------------------------------------------------------------------------


def test_parallel_sign_ins_are_counted_before_the_password_is_checked(project_copy, web):
    """Before: 20-35 attempts sent at once were all checked (counted after the check)."""
    hasher = CountingHasher()
    app = web.make_app(project_copy, limiter=LoginLimiter())
    app.state.accounts.hasher = hasher
    with web.serving(app) as base:
        form = _login_form(base)
        barrier = threading.Barrier(30)
        statuses = []

        def attempt(i: int) -> None:
            barrier.wait()
            response = _sign_in(base, "constable", f"guess number {i:04d}", form)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [401] * 5 + [429] * 25
        assert hasher.checked == 5  # the other 25 were refused before their password
        blocked = _sign_in(base, "constable", web.password)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        # A successful sign-in gives its count back: an office's users do not use up the
        # address's allowance by signing in correctly.
        for _ in range(25):
            assert _sign_in(base, "officer", web.password).status_code == 303


# ---- bodies before authentication, and body limits -------------------------------------------


def test_anonymous_upload_is_refused_before_its_body_is_read(live):
    """Before: an anonymous 200 MB upload was written to disk, then answered 401."""
    base, _, counter = live
    before = counter.read
    for path, expected in (("/api/upload", b" 401 "), ("/upload", b" 303 ")):
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 200000000\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n\r\n"
        )
        answer = _raw_request(base, head, b"-" * 65536)
        status_line = answer.split(b"\r\n", 1)[0]
        assert expected in status_line, answer[:300]
        assert b"content-security-policy" in answer.lower()
    assert counter.read - before == 0  # not a byte of either body was read


def test_uploads_of_other_roles_are_refused_before_the_body(live, web):
    base, _, counter = live
    police = Session(base, "constable", web.password)
    before = counter.read
    head = (
        f"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {police.cookie}\r\n"
        "Content-Length: 200000000\r\nContent-Type: multipart/form-data; boundary=x\r\n\r\n"
    )
    assert b" 403 " in _raw_request(base, head, b"-" * 1024).split(b"\r\n", 1)[0]
    assert counter.read == before


def test_a_body_declared_too_large_is_refused_at_once(live, nurse):
    base, _, counter = live
    before = counter.read
    head = (
        f"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {nurse.cookie}\r\n"
        f"X-CSRF-Token: {nurse.csrf}\r\nContent-Length: 200000000\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n\r\n"
    )
    answer = _raw_request(base, head, b"-" * 1024)
    assert b" 413 " in answer.split(b"\r\n", 1)[0] and b"x-frame-options" in answer.lower()
    assert counter.read == before
    # Everything else takes small bodies only: a sign-in form is well under 64 kB.
    big_login = httpx.post(f"{base}/login", content=b"username=" + b"a" * 200_000)
    assert big_login.status_code == 413


def test_a_chunked_body_is_counted_and_refused_past_the_limit(live, nurse, live_project):
    """A body with no Content-Length (chunked) is refused once the bytes read pass it."""
    base, _, counter = live
    boundary = "abusebound"
    opening = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="source"\r\n\r\nuhw\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def body():
        yield opening
        for _ in range(128):  # 16 MB in 128 kB chunks, past the 8 MB limit
            yield b"x" * 131072

    before = counter.read
    try:
        response = httpx.post(
            f"{base}/api/upload",
            content=body(),
            headers={
                "Cookie": nurse.cookie,
                "X-CSRF-Token": nurse.csrf,
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            timeout=60,
        )
        assert response.status_code == 413
        assert "8 MB" in response.json()["detail"]
        assert all(h in response.headers for h in SECURITY_HEADERS)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        pass  # the server answered and closed while the client still sent: refused too
    assert counter.read - before < 9 * 2**20  # read up to the limit and not on
    assert _uploads_left(live_project) == [] or all(
        "big" not in p.name for p in _uploads_left(live_project)
    )


# ---- uploads: rows, control characters, paths, leftovers, the worker ---------------------------


def test_an_xlsx_of_a_million_rows_is_refused_quickly(live, web, live_project):
    """Before: a 4.7 MB XLSX of 1,000,000 rows was ingested whole (281 s of readers waiting,
    1.8 GB); now its rows are counted in the zip without loading it, and it is refused."""
    base, _, _ = live
    workbook = _xlsx(1_000_000)
    assert len(workbook) < 8 * 2**20  # small: it is the rows that do the harm
    cri = Session(base, "cri_nurse", web.password)
    started = time.monotonic()
    refused = cri.upload("cri", "million.xlsx", workbook)
    assert refused.status_code == 400 and "more than 1,000 rows" in refused.json()["detail"]
    assert time.monotonic() - started < 20
    assert not [p for p in _uploads_left(live_project) if "million" in p.name]


def test_a_csv_with_too_many_rows_is_refused(live, nurse, live_project):
    data = _extract(live_project, n=1)
    header, row = data.decode().splitlines()[:2]
    long = "\n".join([header] + [row] * 1001) + "\n"
    refused = nurse.upload("uhw", "long.csv", long.encode())
    assert refused.status_code == 400 and "more than 1,000 rows" in refused.json()["detail"]
    page = nurse.upload("uhw", "long.csv", long.encode(), path="/upload")
    assert page.status_code == 400 and "more than 1,000 rows" in page.text
    assert not [p for p in _uploads_left(live_project) if "long" in p.name]


def test_nul_and_control_characters_are_refused(live, nurse, web, live_project):
    """Before: a NUL byte in a location text was stored."""
    data = _extract(live_project, [{"IncidentLocation": "Queen St\x00 outside Boots"}])
    refused = nurse.upload("uhw", "nul.csv", data)
    assert refused.status_code == 400
    assert "line 2" in refused.json()["detail"] and "control character" in refused.json()["detail"]
    bell = nurse.upload(
        "uhw", "bell.csv", _extract(live_project, [{"IncidentLocation": "Bar\x07"}])
    )
    assert bell.status_code == 400
    cri = Session(live[0], "cri_nurse", web.password)
    escaped = cri.upload("cri", "nul.xlsx", _xlsx(3, cell="Queen St_x0000_"))
    assert escaped.status_code == 400 and "control character" in escaped.json()["detail"]
    assert not [p for p in _uploads_left(live_project) if "nul" in p.name or "bell" in p.name]


def test_upload_returns_at_once_and_readers_do_not_wait_for_the_ingest(
    project_copy, web, monkeypatch
):
    """Before: readers waited for the whole ingest. Now the slow part (reading, checks,
    matching) holds no lock: a reader is answered while the upload is still ingesting."""
    import cardiffmodel.web.uploads as uploads

    real = uploads.prepare_batch
    inside, release = threading.Event(), threading.Event()

    def slow_prepare(*args, **kw):
        prepared = real(*args, **kw)
        inside.set()
        release.wait(60)  # held here until the test's readers have been answered
        return prepared

    monkeypatch.setattr(uploads, "prepare_batch", slow_prepare)
    app = web.make_app(project_copy, cache_size=0)  # every reader computes its answer
    with web.serving(app) as base:
        try:
            _readers_while_ingesting(base, web, project_copy, inside, release)
        finally:
            release.set()
    kept = _uploads_left(project_copy)
    assert len(kept) == 1 and stat.S_IMODE(kept[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(kept[0].parent.stat().st_mode) & 0o077 == 0


def _readers_while_ingesting(base: str, web, project_copy: Path, inside, release) -> None:
    nurse = Session(base, "nurse", web.password)
    police = Session(base, "constable", web.password)
    before = nurse.get("/api/incidents?months=12").json()["total"]
    started = time.monotonic()
    queued = nurse.upload("uhw", "fresh.csv", _extract(project_copy))
    assert queued.status_code == 202 and time.monotonic() - started < 10
    job = queued.json()
    assert job["status"] in ("queued", "ingesting") and job["file"] == "fresh.csv"
    assert inside.wait(60)  # the worker is in the slow part of the ingest
    for path in ("/api/map/beats?months=3", "/api/overview", "/api/incidents?months=12"):
        reader = police if "incidents" not in path else nurse
        assert reader.get(path).status_code == 200
    assert nurse.get("/api/incidents?months=12").json()["total"] == before
    assert nurse.get(job["status_url"]).json()["status"] == "ingesting"
    release.set()
    done = nurse.finished(job)
    assert done["status"] == "done" and done["result"]["accepted"] == 5, done
    assert nurse.get("/api/incidents?months=12").json()["total"] == before + 5
    page = nurse.get(job["page_url"])
    assert "ingested as batch" in page.text
    assert police.get(job["status_url"]).status_code == 403


def test_upload_messages_name_no_server_path_and_refused_files_are_removed(project_copy, web):
    """Before: messages showed server paths, and refused uploads stayed on disk."""
    app = web.make_app(project_copy)
    with web.serving(app) as base:
        nurse = Session(base, "nurse", web.password)
        data = _extract(project_copy)
        first = nurse.finished(nurse.upload("uhw", "month.csv", data).json())
        assert first["status"] == "done" and first["result"]["skipped"] is None
        again = nurse.finished(nurse.upload("uhw", "month.csv", data).json())
        assert "already ingested" in again["result"]["skipped"]
        broken = nurse.finished(nurse.upload("uhw", "broken.csv", b"just,a,header\n1,2,3\n").json())
        assert broken["result"]["skipped"].startswith("rejected: broken.csv")
        answers = [first, again, broken, nurse.get("/api/batches").json()]
        answers.append(nurse.get("/api/quarantine").json())
        page = nurse.get(f"/upload/{broken['job_id']}").text
    root = str(project_copy)
    for answer in [*answers, page]:
        assert root not in str(answer) and "uploads/uhw" not in str(answer), answer
    kept = _uploads_left(project_copy)
    assert [p.name.split("-", 1)[1] for p in kept] == ["month.csv"]  # refused: gone


def test_an_upload_job_is_only_its_organisations(live, nurse, web, live_project):
    job = nurse.upload("uhw", "mine.csv", _extract(live_project)).json()
    cri = Session(live[0], "cri_nurse", web.password)
    assert cri.get(job["status_url"]).status_code == 404
    assert nurse.finished(job)["status"] == "done"


# ---- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_csv_cell_that_a_spreadsheet_would_run_is_made_text(start):
    cell = f'{start}HYPERLINK("http://example.org")'
    assert spreadsheet_safe(cell) == "'" + cell
    assert spreadsheet_safe(-3) == -3 and spreadsheet_safe("Queen St") == "Queen St"
    written = to_csv([{"a": cell, "b": -3}], ["a", "b"])
    assert written.splitlines()[1].startswith("\"'") or written.splitlines()[1].startswith("'")


def test_csv_exports_carry_no_formulas(live, nurse, live_project):
    """Before: CSV exports wrote cells starting with = + - @ as they were."""
    texts = ["=HYPERLINK Queen St", "+Queen St", "-Queen St", "@SUM(A1) Queen St"]
    data = _extract(live_project, [{"IncidentLocation": t} for t in texts], n=4)
    job = nurse.finished(nurse.upload("uhw", "formulas.csv", data).json())
    assert job["status"] == "done", job
    month = nurse.get("/api/filters").json()["months"][0]
    exported = nurse.get(f"/api/export/incidents.csv?months=12&month={month}").text
    import csv

    rows = list(csv.reader(io.StringIO(exported)))
    cells = [cell for row in rows for cell in row if not _number(cell)]  # -3.17: longitude
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    shown = {c for c in cells if "Queen St" in c and c != "Queen Street"}
    assert {"'=HYPERLINK Queen St", "'+Queen St", "'-Queen St", "'@SUM(A1) Queen St"} <= shown
    beats = nurse.get("/api/export/beats.csv").text
    assert not [c for r in csv.reader(io.StringIO(beats)) for c in r if c[:1] and c[:1] in "=+@"]


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# ---- bad parameters ------------------------------------------------------------------------


BAD_QUERIES = [
    "/api/map/beats?month=0001-01",
    "/api/map/beats?month=9999-12",
    "/api/map/beats?month=2019-1",
    "/api/map/beats?months=abc",
    "/api/overview?months=99999999999999999999999",
    "/api/incidents?offset=99999999999999999999",
    "/api/incidents?offset=9223372036854775807",
    "/api/incidents?limit=abc",
    "/records?page=99999999999999999",
    "/records?page=0",
    "/api/beats/W05000857?month=0000-00",
]


@pytest.mark.parametrize("path", BAD_QUERIES)
def test_bad_parameters_are_400_with_the_security_headers(live, nurse, path):
    """Before: ?month=0001-01 and huge offset/page values gave 500s without the headers."""
    response = nurse.get(path)
    assert response.status_code == 400, (path, response.text[:200])
    assert all(h in response.headers for h in SECURITY_HEADERS)


def test_an_unexpected_error_is_a_500_with_the_security_headers(project_copy, web):
    app = web.make_app(project_copy)

    @app.get("/api/boom")
    def boom():
        raise RuntimeError("a fault nobody foresaw, at /srv/secret/path")

    with web.serving(app) as base:
        response = httpx.get(f"{base}/api/boom")
    assert response.status_code == 500 and "/srv/secret" not in response.text
    assert all(h in response.headers for h in SECURITY_HEADERS)
