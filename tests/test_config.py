"""Configuration from the environment: defaults, validation, the cookie key."""

import stat

import pytest

from core.config import ROOT, load_settings
from core.errors import ConfigError


def test_defaults_use_sqlite_in_the_project_data_dir(tmp_path):
    settings = load_settings({"SECURESPHERE_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{ROOT / 'data' / 'securesphere.db'}"
    assert settings.data_dir == tmp_path
    assert settings.bcrypt_rounds == 12


def test_generated_cookie_key_is_random_private_and_stable(tmp_path):
    first = load_settings({"SECURESPHERE_DATA_DIR": str(tmp_path)}).cookie_key
    key_file = tmp_path / ".cookie_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert load_settings({"SECURESPHERE_DATA_DIR": str(tmp_path)}).cookie_key == first
    other = tmp_path / "other"
    assert load_settings({"SECURESPHERE_DATA_DIR": str(other)}).cookie_key != first


@pytest.mark.parametrize(
    "env, message",
    [
        ({"SECURESPHERE_DATABASE_URL": "not a url"}, "not a database URL"),
        ({"SECURESPHERE_DATABASE_URL": "mysql://u@h/db"}, "unsupported driver"),
        ({"SECURESPHERE_DATABASE_URL": "sqlite://"}, "must name a SQLite file"),
        ({"SECURESPHERE_DATABASE_URL": "postgresql+psycopg://u@h"}, "names no PostgreSQL database"),
        ({"SECURESPHERE_COOKIE_KEY": "some_key"}, "placeholder"),
        ({"SECURESPHERE_COOKIE_KEY": "random_signature_key"}, "placeholder"),
        ({"SECURESPHERE_COOKIE_KEY": "short"}, "too short"),
        ({"SECURESPHERE_DEMO_PASSWORD": "short"}, "at least 12"),
        ({"SECURESPHERE_BCRYPT_ROUNDS": "3"}, "from 4 to 16"),
        ({"SECURESPHERE_TRUSTED_PROXIES": "nginx.internal"}, "not an IP address or network"),
        (
            {"SECURESPHERE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.5/24"},
            "not an IP address or network",
        ),
        ({"SECURESPHERE_TRUSTED_PROXIES": "0.0.0.0/0"}, "trusts every address"),
        ({"SECURESPHERE_TRUSTED_PROXIES": "::/0"}, "trusts every address"),
    ],
)
def test_invalid_values_stop_with_one_line(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_settings({"SECURESPHERE_DATA_DIR": str(tmp_path), **env})
    assert "\n" not in str(info.value)


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        load_settings({"SECURESPHERE_DATA_DIR": str(target)})


def test_postgresql_url_gets_the_psycopg_driver(tmp_path):
    settings = load_settings(
        {
            "SECURESPHERE_DATA_DIR": str(tmp_path),
            "SECURESPHERE_DATABASE_URL": "postgresql://u:p@db.example/ss",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u:p@db.example/ss"


def test_trusted_proxies_are_addresses_and_networks(tmp_path):
    settings = load_settings(
        {
            "SECURESPHERE_DATA_DIR": str(tmp_path),
            "SECURESPHERE_TRUSTED_PROXIES": " 127.0.0.1, ::1,10.0.0.0/8 ,",
        }
    )
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
    assert load_settings({"SECURESPHERE_DATA_DIR": str(tmp_path)}).trusted_proxies == ()
