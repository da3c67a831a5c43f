"""A real OpenID Connect provider on loopback (panva's ``oidc-provider``, run by Node) and a
tampering proxy in front of it, for the single-sign-on tests::

    from tests.support import oidc

    oidc.require_node()                        # skip / fail via skip_layer
    idp = oidc.start_provider(
        {"alice": {"password": "pw", "claims": {"name": "Alice", "email": "a@example.com",
                   "email_verified": True, "groups": ["ss-admins"]}, "amr": ["pwd"]}},
        ["http://127.0.0.1:8501/oauth2callback"],
    )
    try:
        ...  # client_id / client_secret / metadata_url go into [auth] of secrets.toml
        proxy = oidc.start_tamper_proxy(idp, "expired")   # its metadata_url instead: bad ID token
        proxy.stop()
    finally:
        idp.stop()

The provider (``tests/oidc/provider.mjs``) puts ``name``, ``email``, ``email_verified``,
``groups``, ``preferred_username`` (the login), ``amr`` and ``acr`` into the ID token for the
scopes ``openid email profile``. Its login page reads "Test identity provider", with the fields
"Username" and "Password" and the button "Sign in"; a failed login shows
"Wrong username or password.". Consent is automatic.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .browser import ARTIFACTS_DIR, REPO_ROOT, free_port
from .layers import skip_layer

OIDC_DIR = REPO_ROOT / "tests" / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
NODE_INSTALL_HINT = (
    "install with: apt-get install -y nodejs npm; npm ci --prefix tests/oidc "
    "(or run scripts/test.sh, which does both)"
)
START_TIMEOUT = 60.0
DISCOVERY_PATH = "/.well-known/openid-configuration"
TAMPER_MODES = ("pass", "forged", "expired", "audience", "nonce")

# Never send loopback requests through an (environment) HTTP proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def require_node() -> None:
    """Skip (or, under CI, fail) unless Node and the installed ``oidc-provider`` are present."""
    if shutil.which("node") is None:
        skip_layer(f"node not found; {NODE_INSTALL_HINT}")
    if not (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        skip_layer(f"tests/oidc/node_modules/oidc-provider missing; {NODE_INSTALL_HINT}")


def _get_json(url: str, timeout: float = 5.0) -> dict[str, Any]:
    with _OPENER.open(url, timeout=timeout) as resp:
        data: dict[str, Any] = json.load(resp)
        return data


@dataclass
class OidcProvider:
    """A running provider; ``stop()`` ends it."""

    port: int
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path
    config_dir: Path

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return self.issuer + DISCOVERY_PATH

    def log(self) -> str:
        """What the provider printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.config_dir, ignore_errors=True)


def _launch(
    accounts: dict[str, Any], redirect_uris: list[str], client_id: str, client_secret: str
) -> OidcProvider:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = {
        "port": port,
        "issuer": issuer,
        "clients": [
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": list(redirect_uris),
            }
        ],
        "accounts": accounts,
    }
    config_dir = Path(tempfile.mkdtemp(prefix="oidc-provider-"))
    config_path = config_dir / "config.json"
    config_path.write_text(json.dumps(config))
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS_DIR / f"oidc-provider-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["node", str(PROVIDER_SCRIPT), str(config_path)],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NODE_ENV": "test"},
        )
    return OidcProvider(
        port, client_id, client_secret, list(redirect_uris), process, log_path, config_dir
    )


def _wait_ready(provider: OidcProvider, deadline: float) -> bool:
    """True once discovery answers 200; False if the process died of a taken port."""
    while True:
        if provider.process.poll() is not None:
            output = provider.log()
            provider.stop()
            if "EADDRINUSE" in output:
                return False
            raise RuntimeError(
                f"oidc provider exited with {provider.process.returncode}:\n{output}"
            )
        try:
            with _OPENER.open(provider.metadata_url, timeout=2) as resp:
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            provider.stop()
            raise RuntimeError(
                f"oidc provider did not answer within {START_TIMEOUT:.0f} s:\n{provider.log()}"
            )
        time.sleep(0.05)


def start_provider(
    accounts: dict[str, Any],
    redirect_uris: list[str],
    *,
    client_id: str = "securesphere",
    client_secret: str | None = None,
) -> OidcProvider:
    """Start the provider with one confidential web client (``client_secret_basic``; form-post
    credentials are accepted too) and wait until its discovery document answers."""
    require_node()
    secret = client_secret if client_secret is not None else secrets.token_urlsafe(24)
    deadline = time.monotonic() + START_TIMEOUT
    for _ in range(5):  # free_port() can race with another process taking the port
        provider = _launch(accounts, redirect_uris, client_id, secret)
        if _wait_ready(provider, deadline):
            return provider
    raise RuntimeError("oidc provider: no free port found after 5 attempts")


# --- tampering proxy ---------------------------------------------------------------------------

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "host",
    "accept-encoding",
}


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class TamperProxy:
    """Forwards to ``provider``; hands out altered ID tokens according to ``mode``."""

    provider: OidcProvider
    mode: str
    server: ThreadingHTTPServer
    provider_metadata: dict[str, Any]
    signing_key: rsa.RSAPrivateKey
    rogue_key: rsa.RSAPrivateKey
    kid: str = field(default_factory=lambda: "tamper-" + secrets.token_hex(4))
    altered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return self.base_url + DISCOVERY_PATH

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _on_proxy(self, url: str) -> str:
        parts = urlsplit(url)
        return self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")

    def discovery(self) -> dict[str, Any]:
        doc = dict(self.provider_metadata)
        doc["token_endpoint"] = self._on_proxy(doc["token_endpoint"])
        doc["jwks_uri"] = self._on_proxy(doc["jwks_uri"])
        return doc

    def jwks(self, upstream: dict[str, Any]) -> dict[str, Any]:
        own = json.loads(RSAAlgorithm.to_jwk(self.signing_key.public_key()))
        own.update(kid=self.kid, alg="RS256", use="sig")
        return {"keys": [*upstream.get("keys", []), own]}

    def tamper(self, id_token: str) -> str:
        """The ID token as ``mode`` wants it."""
        if self.mode == "pass":
            return id_token
        header = jwt.get_unverified_header(id_token)
        claims: dict[str, Any] = jwt.decode(id_token, options={"verify_signature": False})
        key: rsa.RSAPrivateKey = self.signing_key
        kid = self.kid
        if self.mode == "forged":
            claims.update(groups=["ss-admins"], sub="forged-" + str(claims.get("sub")))
            key, kid = self.rogue_key, str(header.get("kid"))  # claims the provider's key
        elif self.mode == "expired":
            shift = int(claims["exp"]) - int(time.time()) + 3600  # exp an hour ago
            for name in ("exp", "iat", "auth_time"):
                if name in claims:
                    claims[name] = int(claims[name]) - shift
        elif self.mode == "audience":
            claims["aud"] = "someone-else"
        elif self.mode == "nonce":
            claims["nonce"] = "tampered-" + str(claims.get("nonce"))
        with self._lock:
            self.altered += 1
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _handler(proxy_ref: list[TamperProxy]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            proxy = proxy_ref[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"127.0.0.1:{proxy.provider.port}"
            conn = http.client.HTTPConnection("127.0.0.1", proxy.provider.port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                status, reply_headers, data = resp.status, resp.getheaders(), resp.read()
            finally:
                conn.close()
            path = urlsplit(self.path).path
            meta = proxy.provider_metadata
            if status == 200 and self.command == "GET" and path == DISCOVERY_PATH:
                data = json.dumps(proxy.discovery()).encode()
            elif status == 200 and path == urlsplit(meta["jwks_uri"]).path:
                data = json.dumps(proxy.jwks(json.loads(data))).encode()
            elif status == 200 and path == urlsplit(meta["token_endpoint"]).path:
                token = json.loads(data)
                if isinstance(token.get("id_token"), str):
                    token["id_token"] = proxy.tamper(token["id_token"])
                data = json.dumps(token).encode()
            self.send_response(status)
            for name, value in reply_headers:
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _forward

    return Handler


def start_tamper_proxy(provider: OidcProvider, mode: str) -> TamperProxy:
    """A proxy whose discovery document sends token and JWKS requests through it, so that the
    client receives an ID token altered by ``mode``: ``pass`` (unchanged), ``forged`` (claims
    changed, signed by a key in no JWKS), ``expired`` / ``audience`` / ``nonce`` (``exp`` an hour
    ago / ``aud`` "someone-else" / another ``nonce``, re-signed with the proxy's published key)."""
    if mode not in TAMPER_MODES:
        raise ValueError(f"unknown tamper mode {mode!r}; one of {', '.join(TAMPER_MODES)}")
    proxy_ref: list[TamperProxy] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy_ref))
    server.daemon_threads = True
    proxy = TamperProxy(
        provider=provider,
        mode=mode,
        server=server,
        provider_metadata=_get_json(provider.metadata_url),
        signing_key=_new_rsa_key(),
        rogue_key=_new_rsa_key(),
    )
    proxy_ref.append(proxy)
    threading.Thread(target=server.serve_forever, name=f"tamper-proxy-{mode}", daemon=True).start()
    return proxy
