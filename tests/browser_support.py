"""A real browser for the desk's end-to-end tests: headless Debian chromium, the desk served
by uvicorn in a thread, people signed in by their links.

Playwright drives ``/usr/bin/chromium`` and never downloads a browser.  Without chromium the
tests skip, except in CI (``CI`` set), where a missing browser fails them.
"""

from __future__ import annotations

import csv
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> Path:
    """The system chromium, or skip (fail in CI) saying why."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"no chromium at {CHROMIUM} (Debian: apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs it)")
    pytest.skip(reason)


def table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


class Server:
    """The desk under uvicorn on a free port, in a thread of this process."""

    def __init__(self, app):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, access_log=False, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(400):
            if self.server.started:
                return f"http://127.0.0.1:{self.port}"
            time.sleep(0.025)
        raise RuntimeError("the desk did not start")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class Browser:
    """One headless chromium with a fresh profile, signing people in by their links."""

    def __init__(self, playwright, executable: Path, profile: Path, base: str, links: dict):
        self.context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=FLAGS,
            viewport={"width": 1360, "height": 900},
        )
        self.page = self.context.new_page()
        self.base = base
        self.links = links

    def sign_in(self, person: str) -> None:
        self.context.clear_cookies()
        self.page.goto(f"{self.base}/signin?token={self.links[person]}")
        self.page.wait_for_load_state("networkidle")
        assert "token=" not in self.page.url

    def on(self, record: str) -> None:
        self.page.wait_for_url(f"**/screen/title_abstract/record/{record}*")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)
