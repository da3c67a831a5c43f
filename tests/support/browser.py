"""Helpers for end-to-end tests: a real Streamlit server + Debian's Chromium.

Playwright's own browser builds cannot be downloaded here, so tests launch
the system Chromium::

    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright
    from tests.support import browser as b

    b.require_chromium()                      # skip / fail via skip_layer
    port = b.free_port()
    proc = b.start_streamlit({"SECURESPHERE_DB_URL": url}, port)
    try:
        with sync_playwright() as pw:
            br = pw.chromium.launch(executable_path=b.CHROMIUM_PATH, args=b.CHROMIUM_ARGS)
            ctx = br.new_context()
            ctx.add_init_script(b.STABLE_INIT_SCRIPT)
            page = ctx.new_page()
            page.goto(b.base_url(port))
            b.wait_stable(page)
            b.screenshot(page, "login")
    finally:
        b.stop_streamlit(proc)

Streamlit marks its root element ``[data-testid="stApp"]`` with
``data-test-script-state`` (``initial`` before the first run, then
``running`` / ``notRunning`` / ``rerunRequested`` / ...) and
``data-test-connection-state`` (``INITIAL`` / ``CONNECTING`` / ``CONNECTED`` /
``PINGING_SERVER`` / ``DISCONNECTED_FOREVER`` ...); :func:`wait_stable` uses both.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect, sync_playwright

from core import db

from .layers import skip_layer

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"

CHROMIUM_PATH = "/usr/bin/chromium"
# How long a browser step may wait for its outcome. Passing steps never wait this long; a 2-core
# machine with one core kept busy and the suite's own servers running can take 15 s for a rerun.
STEP_TIMEOUT_MS = 45_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM_INSTALL_HINT = "install with: apt-get install -y chromium"

STREAMLIT_START_TIMEOUT = 60.0

# Records the time of the last DOM mutation in window.__lastChange.
# Idempotent, and safe to run before <html> exists (observes the Document).
STABLE_INIT_SCRIPT = """
(() => {
  if (window.__stableObserverInstalled) return;
  window.__stableObserverInstalled = true;
  window.__lastChange = performance.now();
  const mark = () => { window.__lastChange = performance.now(); };
  new MutationObserver(mark).observe(document, {
    childList: true, subtree: true, attributes: true, characterData: true,
  });
})();
"""

_STABLE_PREDICATE = """
(quietMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  // A component frame (the cookie manager) that is still loading reports in once loaded and
  // reruns the app: a click in that rerun can be lost, so the app is not idle before it has.
  for (const frame of document.querySelectorAll('iframe')) {
    let doc = null;
    try { doc = frame.contentDocument; } catch (e) { continue; }  // another origin: not ours
    if (!doc || doc.readyState !== 'complete' || doc.location.href === 'about:blank') {
      return false;
    }
  }
  // Quiet is measured from the later of the last DOM change and the moment
  // wait_stable() was called (window.__stableSince), so a click whose rerun
  // has not touched the DOM yet is not mistaken for an idle app.
  const last = Math.max(window.__lastChange || 0, window.__stableSince || 0);
  return performance.now() - last >= quietMs;
}
"""


def chromium_available() -> bool:
    return os.access(CHROMIUM_PATH, os.X_OK)


def require_chromium() -> None:
    """``skip_layer`` unless Debian's Chromium is installed."""
    if not chromium_available():
        skip_layer(f"Chromium not found at {CHROMIUM_PATH}; {CHROMIUM_INSTALL_HINT}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/"


# Never send localhost requests through an (environment) HTTP proxy.
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _health(port: int) -> str | None:
    try:
        with _NO_PROXY_OPENER.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.read().decode(errors="replace").strip()
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _log_tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def start_streamlit(
    env: dict,
    port: int,
    *,
    app: str = "app.py",
    log_name: str | None = None,
    timeout: float = STREAMLIT_START_TIMEOUT,
) -> subprocess.Popen:
    """Start ``streamlit run app.py`` on 127.0.0.1:``port`` and wait until healthy.

    ``env`` is laid over ``os.environ`` (a value of ``None`` removes that
    variable).  Output goes to ``tests/artifacts/<log_name or streamlit-PORT>.log``;
    the path is available as ``proc.log_path``.  Raises ``RuntimeError`` with
    the log tail if the server dies or is not healthy within ``timeout`` s.
    """
    full_env = dict(os.environ)
    for key, value in env.items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = str(value)
    full_env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    full_env.setdefault("PYTHONUNBUFFERED", "1")

    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", log_name or f"streamlit-{port}")
    log_path = ARTIFACTS_DIR / f"{safe}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the server process owns it until stop_streamlit
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        app,
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    try:
        proc = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        log.close()
        raise
    proc.log_path = log_path  # type: ignore[attr-defined]
    proc._securesphere_log = log  # type: ignore[attr-defined]

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            log.close()
            raise RuntimeError(
                f"streamlit exited with code {proc.returncode} before becoming healthy "
                f"(log {log_path}):\n{_log_tail(log_path)}"
            )
        if _health(port) == "ok":
            return proc
        if time.monotonic() > deadline:
            stop_streamlit(proc)
            raise RuntimeError(
                f"streamlit not healthy on port {port} after {timeout:.0f}s "
                f"(log {log_path}):\n{_log_tail(log_path)}"
            )
        time.sleep(0.2)


def stop_streamlit(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate the server (its whole process group) and close its log. Idempotent."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            proc.wait(timeout=timeout)
    log = getattr(proc, "_securesphere_log", None)
    if log is not None and not log.closed:
        log.close()


def wait_stable(page, quiet_ms: int = 400, timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    """Wait until the Streamlit app is idle and the DOM has been quiet for ``quiet_ms``.

    Idle means ``[data-testid="stApp"]`` has ``data-test-script-state="notRunning"``
    and ``data-test-connection-state="CONNECTED"``, and every component frame has loaded.  The quiet period counts
    from the later of the last DOM change and this call, so the call always
    takes at least ``quiet_ms``: right after a click Streamlit is still
    ``notRunning`` with an unchanged DOM for a round trip (~100 ms here) before
    the rerun starts.  Works best with :data:`STABLE_INIT_SCRIPT` added to the
    context; if it was not, the observer is installed now.
    """
    page.evaluate(STABLE_INIT_SCRIPT + "\nwindow.__stableSince = performance.now();")
    page.wait_for_function(_STABLE_PREDICATE, arg=quiet_ms, timeout=timeout_ms, polling=100)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save ``tests/artifacts/NAME.png`` and return its path."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    if not safe.endswith(".png"):
        safe += ".png"
    path = ARTIFACTS_DIR / safe
    page.screenshot(path=str(path), full_page=full_page)
    return path


def launch_chromium(playwright, **kwargs):
    """``playwright.chromium.launch`` with Debian's Chromium and :data:`CHROMIUM_ARGS`."""
    kwargs.setdefault("executable_path", CHROMIUM_PATH)
    kwargs.setdefault("args", CHROMIUM_ARGS)
    return playwright.chromium.launch(**kwargs)


def eventually(read, *, timeout: float = 30.0, interval: float = 0.2, what: str = "the outcome"):
    """Poll ``read()`` until it returns something truthy and return that, or fail after ``timeout``
    seconds naming ``what`` was awaited: a click's rerun may commit after the page looks idle, so
    a test reads the database through this rather than right after the click."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def app_env(root: Path, password: str, **extra) -> dict:
    """The environment of an app over a fresh SQLite database and data folder under ``root``,
    with every demo account on ``password`` and cheap bcrypt; ``extra`` adds or overrides
    variables (a value of ``None`` removes one, as in :func:`start_streamlit`)."""
    return {
        "SECURESPHERE_DATABASE_URL": f"sqlite:///{root / 'securesphere.db'}",
        "SECURESPHERE_DATA_DIR": str(root / "data"),
        "SECURESPHERE_DEMO_PASSWORD": password,
        "SECURESPHERE_BCRYPT_ROUNDS": "4",
        "SECURESPHERE_COOKIE_KEY": os.urandom(24).hex(),
        **extra,
    }


def run_cli(env: dict, *commands: list[str]) -> None:
    """Run ``python -m core.cli`` once per command with ``env`` laid over the process's own,
    failing with the command's output when one does not succeed."""
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update({k: str(v) for k, v in env.items() if v is not None})
    for args in commands:
        done = subprocess.run(
            [sys.executable, "-m", "core.cli", *args],
            cwd=REPO_ROOT,
            env=full,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (
            f"core.cli {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        )


def sign_in_form(page, username: str, password: str) -> None:
    """Sign in through the form and wait for the signed-in navigation (it comes one run later,
    once the cookie is set)."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="stSidebarNav"]').wait_for(state="visible", timeout=30_000)
    wait_stable(page)


def demo_server(tmp_path_factory, name: str, *commands: list[str], password: str):
    """Generator for a module's ``server`` fixture: the demo data (then ``commands``, each a
    ``core.cli`` command) in a fresh folder, served by a real Streamlit until the module ends."""
    require_chromium()
    root = tmp_path_factory.mktemp(name)
    env = app_env(root, password)
    run_cli(env, ["init", "--demo"], *commands)
    port = free_port()
    proc = start_streamlit(env, port, log_name=name)
    yield {"url": base_url(port), "db": env["SECURESPHERE_DATABASE_URL"], "data": root / "data"}
    stop_streamlit(proc)
    db.dispose_all()


def chromium_browser():
    """Generator for a module's ``browser`` fixture: Debian's Chromium under Playwright."""
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


def new_page(browser, *, width: int = 1400, height: int = 1100, **context_options):
    """A page in a fresh browser profile, watched for quiet (:func:`wait_stable`) and with the
    patient step timeout."""
    context = browser.new_context(viewport={"width": width, "height": height}, **context_options)
    context.add_init_script(STABLE_INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    return page


def choose(page, label, option):
    """Pick an option of a select box by typing part of it and clicking it, as a user would, and
    wait until the box holds it; the list is opened again if a rerun was still redrawing it (on a
    loaded machine an Enter could land on the list's first option before the typing filtered it)."""
    for attempt in range(3):
        box = page.get_by_label(label, exact=True)
        box.click()
        box.press("ArrowDown")  # a click alone does not always open the list
        box.fill(option)
        wanted = page.get_by_role("option", name=option, exact=False).first
        try:
            expect(wanted).to_be_visible(timeout=5_000)
            wanted.click(timeout=5_000)  # a rerun may close the list between these two steps
            wait_stable(page)
            expect(box).to_have_value(re.compile(re.escape(option)), timeout=5_000)
        except (AssertionError, PlaywrightTimeoutError):
            if attempt == 2:
                raise
            box.press("Escape")
            wait_stable(page)
            continue
        return


def click_until(page, button, outcome, *, attempts: int = 3, timeout_ms: int = 15_000) -> None:
    """Click `button` until `outcome` shows, as a person clicks again when nothing happened: a
    click that lands while a rerun redraws the page (the cookie's, after sign-in, on a loaded
    machine) can be lost without a trace. For buttons whose outcome a second click cannot
    double (a refusal would replace the outcome and fail the wait)."""
    for attempt in range(attempts):
        wait_stable(page)
        button.click()
        try:
            expect(outcome).to_be_visible(timeout=timeout_ms)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def nav_labels(page) -> list[str]:
    """All menu entries; a long menu is folded behind "View N more", which is opened first."""
    view = page.locator('[data-testid="stSidebar"]').locator(
        '[data-testid="stSidebarNavViewButton"]'
    )
    if view.count() and re.fullmatch(r"View \d+ more", view.inner_text().strip()):
        view.click()
        expect(view).to_have_text("View less")
    links = (
        page.locator('[data-testid="stSidebarNav"]')
        .locator('[data-testid="stSidebarNavLink"]')
        .locator('[data-testid="stMarkdownContainer"]')
    )
    return [t.strip() for t in links.all_inner_texts()]
