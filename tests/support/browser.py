"""Headless Chromium driven over the DevTools protocol, for tests of pages.

No browser download: Debian's ``chromium``. The test can set request headers
(an API key), open a page, run a script in it, read its text, watch its
console, and screenshot it.
"""

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.support.processes import free_port, stop_process

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self.console_errors: list[str] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"chromium did not answer {method} in time")
            message = json.loads(self._socket.recv(timeout=30))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._note(message)

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.console_errors.append(str(params["exceptionDetails"].get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.console_errors.append(json.dumps(params.get("args")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.console_errors.append(params["entry"].get("text", ""))

    def open(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.call("Network.enable")
        self.call("Runtime.enable")
        self.call("Log.enable")
        self.call("Page.enable")
        if headers:
            self.call("Network.setExtraHTTPHeaders", headers=headers)
        self.call("Page.navigate", url=url)
        self.wait_for(lambda text: bool(text.strip()), timeout=20)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def wait_for(self, condition: Any, *, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = self.text()
            except RuntimeError:
                text = ""
            if condition(text):
                return text
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page never showed what was awaited:\n{text[:2000]}")
            time.sleep(0.2)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(data["data"]))
        return path


@contextmanager
def browser_page() -> Iterator[Page]:
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed")
    port = free_port()
    # Chromium's helper processes may still write to the profile as the browser exits.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                "--window-size=1280,2000",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            target = _page_target(port)
            with connect(target, max_size=64 * 1024 * 1024) as socket:
                yield Page(socket)
        finally:
            stop_process(process)


def _page_target(port: int) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as answer:
                for target in json.load(answer):
                    if target.get("type") == "page":
                        return str(target["webSocketDebuggerUrl"])
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("chromium did not open its DevTools port")
        time.sleep(0.2)
