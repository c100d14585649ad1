"""Users, organisations and sessions in the web database, and ``cardiff users``."""

from __future__ import annotations

import re
import sqlite3

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.web.accounts import AccountError, Accounts
from cardiffmodel.web.database import Database

PASSWORD = "a long enough secret"


@pytest.fixture
def accounts(tmp_path, web):
    return Accounts(Database(tmp_path / "web.sqlite"), web.hasher)


def test_passwords_are_stored_as_argon2id_hashes(tmp_path):
    accounts = Accounts(Database(tmp_path / "web.sqlite"), PasswordHasher())
    accounts.add_user("amy", PASSWORD, "analyst", "CSP")
    with sqlite3.connect(tmp_path / "web.sqlite") as con:
        (stored,) = con.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.authenticate("amy", PASSWORD).role == "analyst"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", PASSWORD, "superuser", "CSP"), "role 'superuser'"),
        (("x", "short", "analyst", "CSP"), "at least 12"),
        (("x y", PASSWORD, "analyst", "CSP"), "no spaces"),
        (("x", PASSWORD, "health", "Hospital"), "needs --site"),
    ],
)
def test_bad_users_are_refused_with_a_reason(accounts, args, message):
    with pytest.raises(AccountError, match=message):
        accounts.add_user(*args)


def test_organisations_own_their_sites(accounts):
    accounts.add_user("nia", PASSWORD, "health", "UHB", ["7A4BV", "7A4C1"])
    joined = accounts.add_user("tom", PASSWORD, "health", "UHB")
    assert joined.sites == frozenset({"7A4BV", "7A4C1"})
    with pytest.raises(AccountError, match="already owns"):
        accounts.add_user("sam", PASSWORD, "health", "UHB", ["7A4CR"])
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user("nia", PASSWORD, "health", "UHB")
    with pytest.raises(AccountError, match=r"\['XX'\] are not in cardiff.toml"):
        accounts.add_user("ann", PASSWORD, "health", "Other", ["XX"], known_sites={"7A4BV"})
    assert [u.username for u in accounts.users()] == ["nia", "tom"]


def test_authentication_and_sessions(accounts):
    accounts.add_user("pc", PASSWORD, "police", "SWP")
    assert accounts.authenticate("pc", "wrong password") is None
    assert accounts.authenticate("nobody", PASSWORD) is None
    token = accounts.start_session("pc")
    session = accounts.session(token)
    assert session.user.username == "pc" and len(session.csrf) > 30
    assert accounts.session("forged") is None
    accounts.db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00+00:00'")
    assert accounts.session(token) is None
    live = accounts.start_session("pc")
    accounts.disable("pc")
    assert accounts.session(live) is None
    assert accounts.authenticate("pc", PASSWORD) is None
    with pytest.raises(AccountError, match="no user"):
        accounts.disable("nobody")


def test_users_command_adds_lists_and_disables(project_copy):
    runner = CliRunner()
    base = ["--project", str(project_copy), "users"]
    added = runner.invoke(
        main,
        [
            *base,
            "add",
            "lowri",
            "--role",
            "health",
            "--organisation",
            "Llandough",
            "--site",
            "7A4C1",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    assert "added lowri (health, Llandough)" in added.output
    wrong_site = runner.invoke(
        main,
        [
            *base,
            "add",
            "x",
            "--role",
            "health",
            "--organisation",
            "X",
            "--site",
            "ZZ",
            "--password",
            PASSWORD,
        ],
    )
    assert wrong_site.exit_code != 0 and "ZZ" in wrong_site.output
    listed = runner.invoke(main, [*base, "list"])
    assert re.search(r"lowri\s+health\s+Llandough\s+7A4C1\s+yes", listed.output)
    assert runner.invoke(main, [*base, "disable", "lowri"]).exit_code == 0
    assert re.search(
        r"lowri\s+health\s+Llandough\s+7A4C1\s+no", runner.invoke(main, [*base, "list"]).output
    )
    assert runner.invoke(main, [*base, "disable", "ghost"]).exit_code != 0


def test_serve_command_names_a_missing_project(tmp_path):
    result = CliRunner().invoke(main, ["--project", str(tmp_path), "serve"])
    assert result.exit_code != 0 and "cardiff.toml" in result.output
