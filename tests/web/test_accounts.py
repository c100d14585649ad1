"""Users, organisations and sessions in the web database, and ``cardiff users``."""

from __future__ import annotations

import os
import re
import sqlite3
import stat

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from cardiffmodel.cli import main
from cardiffmodel.store.duckdb_store import Store
from cardiffmodel.web.accounts import AccountError, Accounts
from cardiffmodel.web.database import Database
from cardiffmodel.web.passwords import WeakPassword, check_password, common_passwords

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
    assert "shell's history" in wrong_site.output  # --password is hidden and warned about
    assert "--password" not in runner.invoke(main, [*base, "add", "--help"]).output
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


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        (" " * 12, "other than spaces"),
        ("", "other than spaces"),
        ("correct horse\x00battery", "control characters"),
        ("short one", "at least 12"),
        ("aaaaaaaaaaaa", "different characters"),
        ("abababababab", "different characters"),
        ("abcdeabcdeabcde", "repeated"),
        ("password1234", "most common"),
        ("Liverpool2024!!", "most common"),
        ("qwertyuiop12", "most common"),
        ("123456789012", "most common"),
        ("nia the nurse's secret", "username"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule_they_break(password, rule):
    """Before: a password of 12 spaces was accepted (length was the only rule)."""
    with pytest.raises(WeakPassword, match=rule):
        check_password(password, "nia")


def test_good_passwords_pass_and_the_common_list_is_shipped():
    for good in (PASSWORD, "correct horse battery staple", "Tŷ Hafan 7 glas"):
        check_password(good, "nia")
    assert {"password", "qwerty", "liverpool"} <= common_passwords()
    assert len(common_passwords()) > 900


def test_accounts_refuse_a_weak_password(accounts):
    with pytest.raises(AccountError, match="other than spaces"):
        accounts.add_user("sp", " " * 12, "police", "SWP")


def test_users_add_asks_for_the_password_twice(project_copy):
    runner = CliRunner()
    base = ["--project", str(project_copy), "users", "add", "gwen", "--role", "council"]
    base += ["--organisation", "Cardiff Council"]
    mismatch = runner.invoke(main, base, input=f"{PASSWORD}\nsomething else entirely\n")
    assert mismatch.exit_code != 0 and "do not match" in mismatch.output.lower()
    weak = runner.invoke(main, base, input=f"{'x' * 12}\n{'x' * 12}\n")
    assert weak.exit_code != 0 and "different characters" in weak.output
    added = runner.invoke(main, base, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0 and PASSWORD not in added.output


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_account_and_store_files_are_private(tmp_path):
    """Before: web.sqlite and the store were world-readable (0644)."""
    old = os.umask(0o022)  # a permissive umask, as a server's may be
    try:
        db = Database(tmp_path / "web.sqlite")
        Accounts(db, PasswordHasher(1, 1024, 1)).add_user("amy", PASSWORD, "analyst", "CSP")
        store_path = tmp_path / "cardiff.duckdb"
        Store(store_path).close()
        for name in ("web.sqlite", "web.sqlite-wal", "web.sqlite-shm", "cardiff.duckdb"):
            assert _mode(tmp_path / name) == 0o600, name
        db.close()
        # Files made before this rule are closed too when next opened.
        for path in (tmp_path / "web.sqlite", store_path):
            os.chmod(path, 0o644)
        Database(tmp_path / "web.sqlite").rows("SELECT 1")
        Store(store_path).close()
        assert _mode(tmp_path / "web.sqlite") == 0o600 and _mode(store_path) == 0o600
    finally:
        os.umask(old)


def test_the_cli_makes_private_files_and_gives_the_umask_back(project_copy):
    old = os.umask(0o022)
    try:
        (project_copy / "web.sqlite").unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            (project_copy / f"web.sqlite{suffix}").unlink(missing_ok=True)
        result = CliRunner().invoke(
            main,
            [
                "--project",
                str(project_copy),
                "users",
                "add",
                "ffion",
                "--role",
                "police",
                "--organisation",
                "SWP",
            ],
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert result.exit_code == 0, result.output
        assert _mode(project_copy / "web.sqlite") == 0o600
        assert os.umask(0o022) == 0o022  # the command put the caller's umask back
    finally:
        os.umask(old)
