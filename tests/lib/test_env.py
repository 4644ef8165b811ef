from __future__ import annotations

import pytest

from groundswell.lib import env
from groundswell.lib.env import ConfigurationError


class TestEnvReaders:
    def test_it_names_the_variable_when_a_required_one_is_missing(self, monkeypatch):
        monkeypatch.delenv("SECRET_KEY", raising=False)
        with pytest.raises(ConfigurationError, match="SECRET_KEY"):
            env.env_str("SECRET_KEY")

    def test_it_reads_booleans_in_plain_words(self, monkeypatch):
        monkeypatch.setenv("DEBUG", "yes")
        assert env.env_bool("DEBUG") is True
        monkeypatch.setenv("DEBUG", "off")
        assert env.env_bool("DEBUG") is False

    def test_it_rejects_a_boolean_it_cannot_read(self, monkeypatch):
        monkeypatch.setenv("DEBUG", "maybe")
        with pytest.raises(ConfigurationError, match="DEBUG"):
            env.env_bool("DEBUG")

    def test_it_rejects_a_number_that_is_not_one(self, monkeypatch):
        monkeypatch.setenv("EMAIL_TIMEOUT", "ten")
        with pytest.raises(ConfigurationError, match="EMAIL_TIMEOUT"):
            env.env_int("EMAIL_TIMEOUT", 5)

    def test_it_names_the_bounds_of_a_number_out_of_them(self, monkeypatch):
        monkeypatch.setenv("SIGN_PROOF_OF_WORK_BITS", "40")
        with pytest.raises(ConfigurationError, match="SIGN_PROOF_OF_WORK_BITS must be at most 32"):
            env.env_int("SIGN_PROOF_OF_WORK_BITS", 16, minimum=1, maximum=32)
        monkeypatch.setenv("SIGN_PROOF_OF_WORK_BITS", "32")
        assert env.env_int("SIGN_PROOF_OF_WORK_BITS", 16, minimum=1, maximum=32) == 32

    def test_it_wants_an_absolute_base_url(self, monkeypatch):
        monkeypatch.setenv("BASE_URL", "act.example.org")
        with pytest.raises(ConfigurationError, match="BASE_URL"):
            env.env_base_url("BASE_URL", "http://x")
        monkeypatch.setenv("BASE_URL", "https://act.example.org/")
        assert env.env_base_url("BASE_URL", "http://x") == "https://act.example.org"


class TestChoicesAndLists:
    def test_it_reads_one_of_the_choices(self, monkeypatch):
        monkeypatch.setenv("TASKS_BACKEND", " immediate ")
        assert env.env_choice("TASKS_BACKEND", "database", ["database", "immediate"]) == "immediate"

    def test_it_falls_back_to_the_default_choice_when_unset(self, monkeypatch):
        monkeypatch.delenv("TASKS_BACKEND", raising=False)
        assert env.env_choice("TASKS_BACKEND", "database", ["database", "immediate"]) == "database"

    def test_it_names_the_variable_and_every_choice_when_the_value_is_not_one(self, monkeypatch):
        monkeypatch.setenv("TASKS_BACKEND", "celery")
        with pytest.raises(ConfigurationError) as error:
            env.env_choice("TASKS_BACKEND", "database", ["database", "immediate", "thread"])
        assert str(error.value) == (
            "TASKS_BACKEND must be 'database', 'immediate' or 'thread'; got 'celery'."
        )

    def test_it_folds_case_only_when_asked(self, monkeypatch):
        monkeypatch.setenv("LOG_LEVEL", "info")
        assert env.env_choice("LOG_LEVEL", "INFO", ["INFO", "DEBUG"], upper=True) == "INFO"
        with pytest.raises(ConfigurationError, match="LOG_LEVEL"):
            env.env_choice("LOG_LEVEL", "INFO", ["INFO", "DEBUG"])

    def test_it_reads_a_list_without_blanks_or_padding(self, monkeypatch):
        monkeypatch.setenv("ALLOWED_HOSTS", " a.example, ,b.example,,")
        assert env.env_list("ALLOWED_HOSTS") == ["a.example", "b.example"]

    def test_it_gives_the_default_list_when_unset_or_empty(self, monkeypatch):
        monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
        assert env.env_list("ALLOWED_HOSTS", ["x"]) == ["x"]
        monkeypatch.setenv("ALLOWED_HOSTS", "  ")
        assert env.env_list("ALLOWED_HOSTS") == []

    def test_it_reads_hex_keys_and_rejects_a_bad_one_without_printing_it(self, monkeypatch):
        monkeypatch.setenv("SUPPRESSION_KEY", "AB" * 32 + ", " + "cd" * 32)
        assert env.env_hex_keys("SUPPRESSION_KEY", length=64) == ["ab" * 32, "cd" * 32]
        monkeypatch.setenv("SUPPRESSION_KEY", "ab" * 32 + ",zz" + "secret" * 10)
        with pytest.raises(ConfigurationError, match=r"SUPPRESSION_KEY .* key 2 ") as error:
            env.env_hex_keys("SUPPRESSION_KEY", length=64)
        assert "secret" not in str(error.value)


class TestDatabaseUrl:
    def test_it_reads_a_postgres_url(self):
        db = env.parse_database_url(
            "DATABASE_URL", "postgres://gs:p%40ss@db.local:6543/groundswell?sslmode=require"
        )
        assert db["ENGINE"] == "django.db.backends.postgresql"
        assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("groundswell", "gs", "p@ss")
        assert (db["HOST"], db["PORT"]) == ("db.local", "6543")
        assert db["OPTIONS"] == {"sslmode": "require"}

    def test_it_rejects_an_unknown_scheme(self):
        with pytest.raises(ConfigurationError, match="DATABASE_URL"):
            env.parse_database_url("DATABASE_URL", "mysql://localhost/gs")

    def test_it_rejects_a_url_without_a_database_name(self):
        with pytest.raises(ConfigurationError, match="DATABASE_URL"):
            env.parse_database_url("DATABASE_URL", "postgres://localhost/")

    def test_it_rejects_a_port_that_is_not_a_number(self):
        with pytest.raises(ConfigurationError, match="port"):
            env.parse_database_url("DATABASE_URL", "postgres://localhost:abc/gs")

    def test_it_gives_sqlite_wal_immediate_and_a_busy_timeout(self, tmp_path):
        db = env.parse_database_url("DATABASE_URL", f"sqlite:///{tmp_path}/gs.sqlite3")
        options = db["OPTIONS"]
        assert isinstance(options, dict)
        assert options["transaction_mode"] == "IMMEDIATE"
        assert options["timeout"] >= 5
        assert "journal_mode=WAL" in options["init_command"]


class TestEmailUrl:
    def test_it_reads_plain_smtp(self):
        config = env.parse_email_url("EMAIL_URL", "smtp://127.0.0.1:1025")
        assert (config.host, config.port, config.use_tls) == ("127.0.0.1", 1025, False)

    def test_it_reads_smtp_with_starttls_and_credentials(self):
        config = env.parse_email_url("EMAIL_URL", "smtp+tls://user:s%3Acret@mail.example.org")
        assert (config.username, config.password) == ("user", "s:cret")
        assert (config.port, config.use_tls) == (587, True)

    def test_it_reads_console(self):
        assert env.parse_email_url("EMAIL_URL", "console://").backend.endswith(
            "console.EmailBackend"
        )

    def test_it_rejects_an_unknown_scheme(self):
        with pytest.raises(ConfigurationError, match="EMAIL_URL"):
            env.parse_email_url("EMAIL_URL", "imap://mail.example.org")
