"""The API over HTTP in-process: figures agree with the store, filters work, exports match,
and signing in, CSRF, rate limiting, the audit trail and upload behave as documented."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import date, datetime

import duckdb
import pytest

from cardiffmodel.coverage import month_span
from cardiffmodel.project import Project
from cardiffmodel.store.interventions import (
    Intervention,
    WhatWorksRow,
    add_intervention,
    save_results,
)
from cardiffmodel.web.accounts import Accounts
from cardiffmodel.web.auth import LimitRule, LoginLimiter
from cardiffmodel.web.database import Database
from cardiffmodel.web.gate import ResultCache

BEAT = "W05000857"


def _sql(folder, query: str, params: list | None = None):
    with duckdb.connect(str(folder / "cardiff.duckdb"), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def test_beat_map_counts_are_the_stores(clients, demo_project):
    found = clients["analyst"].get("/api/map/beats?months=3").json()
    start, end = found["period"]["start"], found["period"]["end"]
    expected = dict(
        _sql(
            demo_project,
            "SELECT beat, count(*) FROM incidents WHERE occurred_date BETWEEN ? AND ? "
            "AND beat IS NOT NULL GROUP BY beat",
            [start, end],
        )
    )
    got = {a["code"]: a["count"]["value"] for a in found["areas"]}
    assert {k: v for k, v in got.items() if v} == expected
    assert len(got) == 29  # every ward, zeros included


def test_filters_narrow_the_counts(clients, demo_project):
    url = "/api/map/beats?months=12&weapon=knife_sharp&source=ed&source=ambulance"
    found = clients["analyst"].get(url).json()
    start, end = found["period"]["start"], found["period"]["end"]
    expected = _sql(
        demo_project,
        "SELECT count(*) FROM incidents WHERE occurred_date BETWEEN ? AND ? "
        "AND weapon = 'knife_sharp' AND source IN ('ed', 'ambulance')",
        [start, end],
    )[0][0]
    assert found["total"]["value"] == expected > 0
    located = clients["analyst"].get(url + "&location_type=licensed_premises").json()
    assert located["total"]["value"] < expected


def test_overview_trend_matches_monthly_counts(clients, demo_project):
    """Held months carry the store's counts; months before the store begins are null
    ("not held"), never 0, and so are the comparisons with them."""
    found = clients["analyst"].get("/api/overview").json()
    months = found["trend"]["months"]
    police = dict(
        _sql(
            demo_project,
            "SELECT strftime(occurred_date, '%Y-%m'), count(*) FROM incidents "
            "WHERE source = 'police' GROUP BY 1",
        )
    )
    first = min(police)  # the demo's first month, 2018-01
    assert months[0] < first  # 24 months back reach before the store begins
    with Project.open(demo_project).store(read_only=True) as store:
        coverage = store.coverage()
    for month, cell, total in zip(
        months, found["trend"]["by_source"]["police"], found["trend"]["total"], strict=True
    ):
        if month < first:
            assert cell == total == {"value": None, "shown": "not held"}, month
        else:  # the police extract of every month was ingested
            assert coverage.held(*month_span(date.fromisoformat(f"{month}-01")), ("police",))
            assert cell["value"] == police[month] > 0, month
    current = found["headline"]["current"]
    assert current["held"]
    assert current["total"]["value"] == sum(c["value"] for c in current["by_source"].values())

    early = clients["police"].get("/api/overview?month=2018-01").json()
    assert not early["headline"]["previous"]["held"]
    assert early["headline"]["previous"]["total"] == {"value": None, "shown": "not held"}
    assert all(c["value"] is None for c in early["headline"]["last_year"]["by_source"].values())
    beats = clients["police"].get("/api/map/beats?month=2018-01").json()
    assert not beats["previous_held"] and not beats["last_year_held"]
    for area in beats["areas"]:
        assert area["previous"]["shown"] == "not held" and area["change"] is None
        assert area["change_flag"] == "" and area["count"]["shown"] != "not held"
    beat = clients["police"].get(f"/api/beats/{BEAT}?month=2018-01").json()
    assert beat["trend"]["total"][0] == {"value": None, "shown": "not held"}  # 2017-01
    assert beat["trend"]["total"][-1]["shown"] != "not held"


def test_csv_and_geojson_exports_carry_the_maps_figures(clients):
    police = clients["police"]
    shown = police.get("/api/map/beats").json()
    by_code = {a["code"]: a for a in shown["areas"]}
    response = police.get("/api/export/beats.csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(by_code)
    for row in rows:
        cell = by_code[row["code"]]["count"]
        assert row["count"] == (cell["shown"] if cell["value"] is None else str(cell["value"]))
    geo = police.get("/api/export/beats.geojson").json()
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == len(by_code)
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in geo["features"])


def test_health_record_exports(clients, web):
    health = clients["health"]
    listed = health.get("/api/incidents?months=12&limit=5").json()
    text = health.get("/api/export/incidents.csv?months=12").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == listed["total"]
    assert {r["site"] for r in rows} == set(web.health_sites)
    geo = health.get("/api/export/incidents.geojson?months=12").json()
    assert len(geo["features"]) == listed["total"]
    placed = [f for f in geo["features"] if f["geometry"]]
    assert placed and all(-3.4 < f["geometry"]["coordinates"][0] < -3.0 for f in placed)


def test_beat_page_agrees_with_the_map(clients):
    for role in ("police", "analyst"):
        beat = clients[role].get(f"/api/beats/{BEAT}?months=3").json()
        on_map = next(
            a
            for a in clients[role].get("/api/map/beats?months=3").json()["areas"]
            if a["code"] == BEAT
        )
        assert beat["figures"] == on_map
        assert len(beat["hour_weekday"]["cells"]) == 7
        assert {"weapon", "location_type"} == set(beat["profiles"])
        assert set(beat["gap"]["counts"]) == {"ed", "police"}


def test_openapi_documents_every_api_route(anonymous):
    schema = anonymous.get("/api/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/map/beats", "/api/beats/{code}", "/api/export/beats.csv", "/api/upload"} <= paths
    assert all(op.get("summary") for ops in schema["paths"].values() for op in ops.values())
    assert not any(p.startswith("/login") or p == "/" for p in paths)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("month=2019-13", "2019-13"),
        ("months=2", "months 2"),
        ("weapon=spoon", "spoon"),
        ("source=fire", "fire"),
        ("scope=everything", "everything"),
    ],
)
def test_bad_filters_are_named_in_the_answer(clients, query, words):
    response = clients["police"].get(f"/api/map/beats?{query}")
    assert response.status_code in (400, 403)
    assert words in response.json()["detail"]


def test_unknown_beat_is_not_found(clients):
    response = clients["police"].get("/api/beats/NOWHERE")
    assert response.status_code == 404 and "NOWHERE" in response.json()["detail"]


def test_pages_load_nothing_from_elsewhere(clients):
    """The dashboard must work with no internet: every script, style and link is local."""
    for path in ("/", "/map", f"/beats/{BEAT}", "/reports", "/quality", "/api/docs"):
        page = clients["health"].get(path)
        assert page.status_code == 200
        external = re.findall(r'(?:src|href)="(https?:[^"]*)"', page.text)
        assert not external, (path, external)
        assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/chart.js/chart.umd.min.js"):
        assert clients["health"].get(asset).status_code == 200


def test_session_cookie_is_secure_httponly_and_samesite(app, web):
    with web.new_client(app) as client:
        response = web.sign_in(client, "constable")
        cookie = response.history[0].headers["set-cookie"]
    assert "cardiff_session=" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_sign_in_refuses_a_wrong_password_and_a_forged_form(app, web):
    with web.new_client(app) as client:
        assert web.sign_in(client, "constable", "not the password").status_code == 401
        assert client.get("/api/me").status_code == 401
        forged = client.post(
            "/login", data={"username": "constable", "password": web.password, "login_token": "x"}
        )
        assert forged.status_code == 403
        assert client.get("/api/me").status_code == 401


def test_sign_in_is_rate_limited_per_address_and_user(project_copy, web):
    now = [1000.0]
    limiter = LoginLimiter(LimitRule(3, 600), LimitRule(10, 600), clock=lambda: now[0])
    app = web.make_app(project_copy, limiter=limiter)
    with web.new_client(app) as client:
        for _ in range(3):
            assert web.sign_in(client, "constable", "wrong password!").status_code == 401
        blocked = web.sign_in(client, "constable")  # even the right password waits
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert web.sign_in(client, "officer").status_code == 200  # another user is not held up
        now[0] += 601
        assert web.sign_in(client, "constable").status_code == 200


def test_writes_need_the_csrf_token_and_sign_out_ends_the_session(app, web):
    with web.new_client(app) as client:
        web.sign_in(client, "officer")
        assert client.post("/logout").status_code == 403
        assert client.post("/logout", data={"csrf_token": "guess"}).status_code == 403
        assert client.get("/api/me").status_code == 200
        token = web.csrf_of(client)
        assert client.post("/logout", data={"csrf_token": token}).status_code == 200  # redirected
        assert client.get("/api/me").status_code == 401


def test_disabling_a_user_ends_their_session(project_copy, web):
    app = web.make_app(project_copy)
    with web.new_client(app) as client:
        web.sign_in(client, "officer")
        assert client.get("/api/map/beats").status_code == 200
        Accounts(Database.in_project(project_copy), web.hasher).disable("officer")
        assert client.get("/api/map/beats").status_code == 401
        assert web.sign_in(client, "officer").status_code == 401


def test_every_data_access_and_export_is_audited(project_copy, web):
    app = web.make_app(project_copy)
    with web.new_client(app) as police, web.new_client(app) as admin:
        web.sign_in(police, "constable", "wrong password!")
        web.sign_in(police, "constable")
        police.get(f"/api/beats/{BEAT}?months=3")
        police.get("/api/export/beats.csv?months=3")
        police.get("/api/incidents")
        web.sign_in(admin, "root")
        entries = admin.get("/api/audit?username=constable").json()["entries"]
        failed = admin.get("/api/audit").json()["entries"]
    seen = [(e["action"], e["path"], e["status"]) for e in reversed(entries)]
    assert seen[0] == ("login", "/login", 303)
    assert ("view", f"/api/beats/{BEAT}", 200) in seen
    assert ("export", "/api/export/beats.csv", 200) in seen
    assert ("denied", "/api/incidents", 403) in seen
    export = next(e for e in entries if e["action"] == "export")
    assert export["query"] == "months=3" and export["role"] == "police"
    assert export["organisation"] == "South Wales Police"
    assert any(e["action"] == "login_failed" and e["detail"] == "constable" for e in failed)


def _extract(folder, name: str, bad_date: bool) -> tuple[str, bytes]:
    """A new monthly extract for the uhw source, in the layout of its demo files."""
    template = sorted((folder / "extracts/ed/uhw").glob("*.csv"))[-1]
    lines = template.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:6]
    fresh = [re.sub(r"^A\d+", f"W{i:07d}", row) for i, row in enumerate(rows)]
    if bad_date:
        fields = next(csv.reader([fresh[0]]))
        fields[header.split(",").index("IncidentDate")] = "31/02/2019"
        out = io.StringIO()
        csv.writer(out).writerow(fields)
        fresh[0] = out.getvalue().strip()
    return name, ("\n".join([header, *fresh]) + "\n").encode()


def test_upload_ingests_and_shows_the_uploader_its_errors(project_copy, web):
    app = web.make_app(project_copy)
    with web.new_client(app) as client:
        web.sign_in(client, "nurse")
        before = client.get("/api/incidents?months=12").json()["total"]
        name, data = _extract(project_copy, "uhw_new.csv", bad_date=True)
        token = web.csrf_of(client)
        page = client.post(
            "/upload",
            data={"source": "uhw", "csrf_token": token},
            files={"file": (name, data, "text/csv")},
        )
        assert page.status_code == 200 and re.search(r"/upload/[\w-]+$", str(page.url))
        app.state.uploads.wait(120)  # ingested in the background; the page follows it
        page = client.get(page.url)
        assert "31/02/2019" in page.text and "not a valid date" in page.text
        after = client.get("/api/incidents?months=12").json()["total"]
        assert after == before + 4  # five rows, one quarantined
        again = client.post(
            "/api/upload",
            data={"source": "uhw"},
            files={"file": (name, data, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert again.status_code == 202
        app.state.uploads.wait(120)
        job = client.get(again.json()["status_url"]).json()
        assert job["status"] == "done" and "already ingested" in job["result"]["skipped"]
        elsewhere = client.post(
            "/api/upload",
            data={"source": "cri"},
            files={"file": (name, data, "text/csv")},
            headers={"X-CSRF-Token": token},
        )
        assert elsewhere.status_code == 400 and "cri" in elsewhere.json()["detail"]
    assert (project_copy / "uploads/uhw").is_dir()


def test_cache_computes_each_answer_once_under_concurrent_requests():
    cache, calls = ResultCache(size=4), []
    barrier = threading.Barrier(8)

    def compute():
        calls.append(1)
        return 42

    def ask():
        barrier.wait()
        assert cache.get("key", compute) == 42

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    for key in range(5):
        cache.get(key, compute)
    assert len(calls) == 6 and len(cache._entries) == 4


def test_interventions_and_what_works_are_read_back_by_every_role(project_copy, web):
    app = web.make_app(project_copy)
    with web.new_client(app) as client:
        web.sign_in(client, "constable")
        assert client.get("/api/interventions").json() == {"interventions": []}
        assert client.get("/api/what-works").json() == {"results": []}
        assert "No intervention has been evaluated yet" in client.get("/what-works").text
    cctv = Intervention(
        "Cathays CCTV", "cctv", "beat", (BEAT,), date(2019, 3, 1), description="Four cameras"
    )
    with duckdb.connect(str(project_copy / "cardiff.duckdb")) as con:
        add_intervention(con, cctv)
        save_results(
            con,
            (
                WhatWorksRow(
                    cctv.name, "cctv", "all", "did", 0.8, 0.7, 0.91, True, "reduced",
                    "Incidents fell by about a fifth.", datetime(2019, 9, 1, 10, 30),
                ),
            ),
        )  # fmt: skip
    for role in web.roles:
        with web.new_client(web.make_app(project_copy)) as client:
            web.sign_in(client, web.users[role][0])
            register = client.get("/api/interventions").json()["interventions"]
            assert register == [cctv.as_dict() | {"type_label": "CCTV"}], role
            (result,) = client.get("/api/what-works").json()["results"]
            assert (result["intervention"], result["method"], result["verdict"]) == (
                cctv.name, "did", "reduced",
            )  # fmt: skip
            assert (result["rate_ratio"], result["low"], result["high"]) == (0.8, 0.7, 0.91)
            assert result["rate_ratio_text"] == "0.80 (0.70 to 0.91)"
            assert result["evaluated_at"] == "2019-09-01T10:30:00"
            page = client.get("/what-works").text
            assert "Incidents fell by about a fifth." in page and "Four cameras" in page
