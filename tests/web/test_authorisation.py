"""Every route tried with every role: the right ones are refused, and nothing leaks.

The policy is written out here, independently of the code, and every route the app has
must appear in it, so a new route without a decided rule fails this file. Each answer a
role receives is then searched for record-level data (incident ids, free-text locations)
and, where the role sees suppressed figures, for any count from 1 to 4.
"""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from cardiffmodel.web import api, pages

ALL = ("health", "police", "council", "analyst", "admin")
HEALTH = ("health",)
ADMIN = ("admin",)
BEAT = "W05000857"  # Cathays, the busiest ward of the synthetic city
# Who may GET each route; "public" routes need no session.
POLICY = {
    "/api/me": ALL,
    "/api/filters": ALL,
    "/api/overview": ALL,
    "/api/map/areas": ALL,
    "/api/map/beats": ALL,
    "/api/map/venues": ALL,
    "/api/map/hotspots": ALL,
    "/api/beats/{code}": ALL,
    "/api/quality": ALL,
    "/api/reports": ALL,
    "/api/interventions": ALL,
    "/api/what-works": ALL,
    "/api/incidents": HEALTH,
    "/api/batches": HEALTH,
    "/api/quarantine": HEALTH,
    "/api/review": HEALTH,
    "/api/export/beats.csv": ALL,
    "/api/export/beats.geojson": ALL,
    "/api/export/incidents.csv": HEALTH,
    "/api/export/incidents.geojson": HEALTH,
    "/api/users": ADMIN,
    "/api/audit": ADMIN,
    "/api/docs": ALL,
    "/": ALL,
    "/map": ALL,
    "/beats/{code}": ALL,
    "/quality": ALL,
    "/reports": ALL,
    "/what-works": ALL,
    "/reports/{period}/{name}": ALL,
    "/records": HEALTH,
    "/batches": HEALTH,
    "/review": HEALTH,
    "/upload": HEALTH,
    "/api/uploads/{job_id}": HEALTH,  # and only the uploading organisation (test_abuse)
    "/upload/{job_id}": HEALTH,
    "/admin": ADMIN,
    "/login": "public",
}
POSTS = {"/api/upload": HEALTH, "/upload": HEALTH, "/logout": ALL, "/login": "public"}
# Routes whose figures depend on the view, asked for with scope=own as well.
SCOPED = ("/api/overview", "/api/map/beats", "/api/map/venues", "/api/beats/{code}")


def _routes(method: str) -> list[str]:
    return [r.path for r in api.router.routes + pages.router.routes if method in r.methods]


def test_every_route_has_a_declared_policy():
    assert set(_routes("GET")) == set(POLICY)
    assert set(_routes("POST")) == set(POSTS)


@pytest.fixture(scope="module")
def report_url(demo_project) -> str:
    period = sorted(p.name for p in (demo_project / "reports").iterdir())[-1]
    return f"/reports/{period}/city-centre-and-bay.html"


def _url(path: str, report_url: str) -> str:
    if path == "/reports/{period}/{name}":
        return report_url
    return path.replace("{code}", BEAT).replace("{job_id}", "no-such-job")


@pytest.fixture(scope="module")
def secrets_in_store(demo_project, web):
    """What must never reach someone without the right: ids and free-text locations."""
    with duckdb.connect(str(demo_project / "cardiff.duckdb"), read_only=True) as con:
        ids = con.execute("SELECT incident_id, site FROM incidents").fetchall()
        names = {r[0] for r in con.execute("SELECT DISTINCT place_name FROM incidents").fetchall()}
        texts = con.execute(
            "SELECT DISTINCT location_text FROM incidents WHERE length(location_text) >= 15"
        ).fetchall()
    return {
        "ids": {i for i, _ in ids},
        "other_ids": {i for i, site in ids if site not in web.health_sites},
        # Venue names are published on purpose; a text that is exactly one is no leak.
        "texts": {t for (t,) in texts if t not in names},
    }


def _small_counts(node, found: list) -> list:
    """Every published cell of a JSON answer that shows, or carries, a count of 1 to 4."""
    if isinstance(node, dict):
        if set(node) == {"value", "shown"}:
            value, shown = node["value"], node["shown"]
            if value is None and shown not in ("<5", "*", "not held"):  # no count: no data
                found.append(node)
            if value is not None and 0 < value < 5:
                found.append(node)
        for child in node.values():
            _small_counts(child, found)
    elif isinstance(node, list):
        for child in node:
            _small_counts(child, found)
    return found


def _assert_no_records(body: str, secrets: dict, role: str, url: str) -> None:
    forbidden = secrets["ids"] if role != "health" else secrets["other_ids"]
    leaked = [i for i in forbidden if i in body]
    assert not leaked, f"{role} {url}: incident ids leaked, e.g. {leaked[:3]}"
    if role != "health":
        texts = [t for t in secrets["texts"] if t in body]
        assert not texts, f"{role} {url}: free-text locations leaked, e.g. {texts[:3]}"


def _assert_suppressed(response, role: str, url: str) -> None:
    kind = response.headers["content-type"]
    if "json" in kind:
        small = _small_counts(response.json(), [])
        assert not small, f"{role} {url}: unsuppressed small counts {small[:5]}"
    elif "csv" in kind:
        for row in csv.DictReader(io.StringIO(response.text)):
            for column in ("count", "previous", "last_year"):
                value = row[column]
                if value in ("<5", "*", "not held"):
                    continue
                assert int(value) == 0 or int(value) >= 5, (role, url, row)


@pytest.mark.parametrize("path", sorted(POLICY))
def test_every_role_gets_only_what_the_policy_allows(path, clients, anonymous, report_url):
    url = _url(path, report_url)
    allowed = POLICY[path]
    for role, client in clients.items():
        expected = 200 if allowed == "public" or role in allowed else 403
        if expected == 200 and "{job_id}" in path:
            expected = 404  # the role may ask; there is no such upload
        assert client.get(url).status_code == expected, (role, url)
    response = anonymous.get(url, follow_redirects=False)
    if allowed == "public":
        assert response.status_code == 200
    elif path.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", sorted(p for p in POLICY if POLICY[p] != "public"))
def test_no_answer_leaks_records_or_small_counts(path, clients, secrets_in_store, report_url):
    url = _url(path, report_url)
    for role, client in clients.items():
        response = client.get(url)
        if response.status_code != 200:
            continue
        _assert_no_records(response.text, secrets_in_store, role, url)
        if role != "analyst" and POLICY[path] == ALL:
            _assert_suppressed(response, role, url)


def test_suppression_is_really_applied(clients):
    """The checks above could pass on a store with no small counts; this one has many."""
    shown = json.dumps(clients["police"].get(f"/api/beats/{BEAT}").json())
    assert '"<5"' in shown
    analyst = clients["analyst"].get(f"/api/beats/{BEAT}").json()
    assert _small_counts(analyst, []), "the analyst sees unsuppressed figures"


@pytest.mark.parametrize("path", SCOPED)
def test_only_health_users_may_ask_for_their_own_scope(path, clients, secrets_in_store):
    url = _url(path, "") + "?scope=own"
    for role, client in clients.items():
        response = client.get(url)
        assert response.status_code == (200 if role == "health" else 403), (role, url)
    own = clients["health"].get(url)
    _assert_no_records(own.text, secrets_in_store, "health", url)


def test_own_scope_counts_only_the_organisations_sites(clients, demo_project, web):
    own = clients["health"].get("/api/map/beats?scope=own&months=12").json()
    with duckdb.connect(str(demo_project / "cardiff.duckdb"), read_only=True) as con:
        start, end = own["period"]["start"], own["period"]["end"]
        expected = con.execute(
            "SELECT count(*) FROM incidents WHERE site IN ? AND occurred_date BETWEEN ? AND ?",
            [list(web.health_sites), start, end],
        ).fetchall()[0][0]
    assert own["suppressed"] is False
    assert own["total"]["value"] == expected > 0


def test_health_records_are_only_their_own_sites(clients, web):
    records = clients["health"].get("/api/incidents?months=12&limit=1000").json()
    assert records["total"] > 0
    assert {r["site"] for r in records["records"]} <= set(web.health_sites)
    batches = clients["health"].get("/api/batches").json()
    assert batches["sources"] == ["uhw"]
    assert {b["source"] for b in batches["batches"]} == {"uhw"}
    quarantined = clients["health"].get("/api/quarantine").json()["rows"]
    assert quarantined and {q["source"] for q in quarantined} == {"uhw"}


@pytest.mark.parametrize("path", ["/api/upload", "/upload"])
def test_only_health_users_may_upload(path, clients, web):
    for role, client in clients.items():
        if role == "health":
            continue
        response = client.post(
            path,
            data={"source": "uhw", "csrf_token": web.csrf_of(client)},
            files={"file": ("x.csv", b"AttendanceNo\n1\n", "text/csv")},
        )
        assert response.status_code == 403, role


def test_reports_for_a_health_audience_are_not_given_to_police(project_copy, web):
    """A group report written for health is unsuppressed: police and council may not have it."""
    period_dir = sorted((project_copy / "reports").iterdir())[-1]
    (period_dir / "health-only.html").write_text("<p>unsuppressed</p>")
    toml = project_copy / "cardiff.toml"
    toml.write_text(
        toml.read_text()
        + '\n[[groups]]\nname = "Health only"\nlayer = "beat"\nareas = ["W05000857"]\n'
        'audience = "health"\n'
    )
    app = web.make_app(project_copy)
    url = f"/reports/{period_dir.name}/health-only.html"
    for role in web.roles:
        with web.new_client(app) as client:
            web.sign_in(client, web.users[role][0])
            listed = [r["url"] for r in client.get("/api/reports").json()["reports"]]
            allowed = role in ("health", "analyst")
            assert client.get(url).status_code == (200 if allowed else 403), role
            assert (url in listed) == allowed, role
