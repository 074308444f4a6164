"""Open a local HTML file in headless Chromium through the DevTools protocol and report console
errors, broken images and a full-page screenshot (used by the ``browser`` tests)."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]
BROKEN_IMAGES_JS = ("Array.prototype.filter.call(document.images, "
                    "i => !i.complete || i.naturalWidth === 0).length")


@dataclass
class PageCheck:
    errors: list[str] = field(default_factory=list)
    broken_images: int = -1
    broken_marker: str = ""
    images: int = 0
    title: str = ""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Session:
    def __init__(self, ws_url: str, timeout: float) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.next_id, self.events = 0, []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, deadline: float) -> None:
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} before the deadline")
            self.events.append(json.loads(self.ws.recv()))


def _page_ws(port_file: Path, deadline: float) -> str:
    while not port_file.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("Chromium did not open its DevTools port")
        time.sleep(0.1)
    port = port_file.read_text().split()[0]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
        pages = [t for t in json.load(r) if t["type"] == "page"]
    return pages[0]["webSocketDebuggerUrl"]


def _errors(events: list[dict]) -> list[str]:
    errors = []
    for e in events:
        p = e.get("params", {})
        if e.get("method") == "Runtime.exceptionThrown":
            errors.append(p["exceptionDetails"].get("text", "exception"))
        elif e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
        elif e.get("method") == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(p["entry"]["text"])
    return errors


def check_page(html: Path, screenshot: Path | None = None, timeout: float = 60.0) -> PageCheck:
    """Load ``html`` from disk (file://), wait for the load event, collect errors and images."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        proc = subprocess.Popen([chromium(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + timeout
            s = _Session(_page_ws(Path(profile) / "DevToolsActivePort", deadline), timeout)
            for domain in ("Page", "Runtime", "Log"):
                s.call(f"{domain}.enable")
            s.call("Page.navigate", url=html.resolve().as_uri())
            s.wait_event("Page.loadEventFired", deadline)
            value = lambda expr: s.call("Runtime.evaluate", expression=expr,  # noqa: E731
                                        returnByValue=True)["result"].get("value")
            check = PageCheck(broken_images=value(BROKEN_IMAGES_JS),
                              broken_marker=value("document.body.dataset.brokenImages"),
                              images=value("document.images.length"), title=value("document.title"))
            if screenshot is not None:
                size = s.call("Page.getLayoutMetrics")["cssContentSize"]
                clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                        "scale": 1}
                shot = s.call("Page.captureScreenshot", format="png", clip=clip,
                              captureBeyondViewport=True)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            check.errors = _errors(s.events)
            s.ws.close()
            return check
        finally:
            proc.terminate()
            proc.wait(timeout=10)
