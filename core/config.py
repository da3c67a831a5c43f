"""Settings from the environment (SECURESPHERE_*); invalid values stop start-up with one line."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.db import make_private_dir
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///data/securesphere.db"
COOKIE_KEY_FILE = ".cookie_key"
MIN_COOKIE_KEY_LENGTH = 32
SUPPORTED_DRIVERS = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"}
# Values copied from examples and tutorials: a key anybody can read is no key.
PLACEHOLDER_KEYS = {
    "some_key",
    "some_signature_key",
    "random_signature_key",
    "change-me",
    "changeme",
    "change_me",
    "secret",
    "your-secret-key",
    "replace-me",
    "xxxxxxxx",
    "cookie_key",
}


@dataclass(frozen=True)
class Settings:
    """Process configuration; run-time tunables live in system_settings instead."""

    database_url: str
    data_dir: Path
    cookie_key: str
    demo_password: str | None
    bcrypt_rounds: int = 12
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate SECURESPHERE_* variables; raise ConfigError with a one-line reason."""
    env = os.environ if env is None else env
    data_dir = _data_dir(env.get("SECURESPHERE_DATA_DIR") or "data")
    return Settings(
        database_url=database_url(env.get("SECURESPHERE_DATABASE_URL") or DEFAULT_DATABASE_URL),
        data_dir=data_dir,
        cookie_key=_cookie_key(env.get("SECURESPHERE_COOKIE_KEY"), data_dir),
        demo_password=_demo_password(env.get("SECURESPHERE_DEMO_PASSWORD")),
        bcrypt_rounds=_bcrypt_rounds(env.get("SECURESPHERE_BCRYPT_ROUNDS")),
        trusted_proxies=trusted_proxies(env.get("SECURESPHERE_TRUSTED_PROXIES") or ""),
    )


def database_url(raw: str) -> str:
    """Validate a database URL; relative SQLite paths are taken from the project root."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ConfigError(f"SECURESPHERE_DATABASE_URL is not a database URL: {raw!r}") from None
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigError(
            f"SECURESPHERE_DATABASE_URL uses unsupported driver {url.drivername!r}; "
            "use sqlite:///path.db or postgresql+psycopg://user@host/db"
        )
    if url.drivername.startswith("postgresql"):
        if not url.database:
            raise ConfigError("SECURESPHERE_DATABASE_URL names no PostgreSQL database")
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if not url.database or url.database == ":memory:":
        raise ConfigError("SECURESPHERE_DATABASE_URL must name a SQLite file, not memory")
    path = Path(url.database)
    if not path.is_absolute():
        path = ROOT / path
    return f"sqlite:///{path}"


def _data_dir(raw: str) -> Path:
    path = Path(raw)
    path = path if path.is_absolute() else ROOT / path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"SECURESPHERE_DATA_DIR is not a directory: {path}")
    return path


def _cookie_key(raw: str | None, data_dir: Path) -> str:
    if raw:
        return check_cookie_key(raw, "SECURESPHERE_COOKIE_KEY")
    key_file = data_dir / COOKIE_KEY_FILE
    if key_file.exists():
        return check_cookie_key(key_file.read_text().strip(), str(key_file))
    make_private_dir(data_dir)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return check_cookie_key(key_file.read_text().strip(), str(key_file))
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def check_cookie_key(key: str, origin: str) -> str:
    """Refuse placeholder or short cookie keys."""
    if key.strip().lower() in PLACEHOLDER_KEYS:
        raise ConfigError(
            f"{origin} is a published placeholder; set a random value of 32+ characters"
        )
    if len(key) < MIN_COOKIE_KEY_LENGTH:
        raise ConfigError(
            f"{origin} is too short: use at least {MIN_COOKIE_KEY_LENGTH} random characters"
        )
    return key


def _demo_password(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) < 12:
        raise ConfigError("SECURESPHERE_DEMO_PASSWORD must be at least 12 characters")
    if len(raw.encode()) > 72:
        raise ConfigError("SECURESPHERE_DEMO_PASSWORD must be at most 72 bytes")
    return raw


def _bcrypt_rounds(raw: str | None) -> int:
    if raw is None or raw == "":
        return 12
    if not raw.isdigit() or not 4 <= int(raw) <= 16:
        raise ConfigError("SECURESPHERE_BCRYPT_ROUNDS must be a whole number from 4 to 16")
    return int(raw)


def trusted_proxies(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parse comma-separated proxy addresses or CIDR networks whose X-Forwarded-For we believe."""
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            network = ipaddress.ip_network(item)
        except ValueError:
            raise ConfigError(
                f"SECURESPHERE_TRUSTED_PROXIES: {item!r} is not an IP address or "
                "network such as 127.0.0.1 or 10.0.0.0/8"
            ) from None
        # Trusting every address would let any client choose the address it is throttled under.
        if network.prefixlen == 0:
            raise ConfigError(
                f"SECURESPHERE_TRUSTED_PROXIES: {item!r} trusts every address; name your proxies"
            )
        networks.append(network)
    return tuple(networks)
