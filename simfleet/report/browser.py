"""Headless Chromium driven over the DevTools protocol's pipe: the report as a person's browser shows it.

Used for `simfleet report --png DIR` (each chart and the whole page as PNG images, drawn by the
same BokehJS the page uses) and by the tests, which read console errors and evaluate JavaScript in
the loaded page. Nothing but the standard library: Chromium is started with
`--remote-debugging-pipe`, reads protocol messages (JSON, NUL-terminated) on its fd 3 and writes
them on its fd 4. It runs with a fresh profile, without network services or the sandbox (CI runs
as root in a container), and is stopped when the `Browser` is closed.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Browser", "BrowserError", "find_chromium", "ConsoleMessage", "CHROMIUM_FLAGS"]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars")


class BrowserError(RuntimeError):
    """Chromium is missing, died, or did not answer in time."""


def find_chromium() -> str | None:
    """`$SIMFLEET_CHROMIUM`, else the first Chromium or Chrome on PATH, else None."""
    explicit = os.environ.get("SIMFLEET_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class ConsoleMessage:
    level: str  # "error", "warning", …; "exception" for an uncaught one
    text: str


class Browser:
    """One headless Chromium with one page. Use as a context manager."""

    def __init__(self, executable: str | None = None, width: int = 1200, height: int = 900, timeout_s: float = 60.0):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise BrowserError("Chromium not found (install Debian's `chromium` package, or set SIMFLEET_CHROMIUM)")
        self.timeout_s = timeout_s
        self.width, self.height = width, height
        self._profile = tempfile.mkdtemp(prefix="simfleet-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # the child gets our pipe ends as its fds 3 and 4; first moved above 10 so dup2 cannot clobber them
        high_r, high_w = os.dup(to_chrome_r), os.dup(from_chrome_w)

        def child_fds() -> None:
            import fcntl
            r, w = fcntl.fcntl(high_r, fcntl.F_DUPFD, 10), fcntl.fcntl(high_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [self.executable, *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}", "about:blank"]
        try:
            self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=child_fds)
        except OSError as error:
            raise BrowserError(f"cannot start {self.executable}: {error}") from None
        finally:
            for fd in (to_chrome_r, from_chrome_w, high_r, high_w):
                os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        self.console: list[ConsoleMessage] = []
        self.requests: list[str] = []
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable")
            self.set_viewport(width, height)
        except BaseException:
            self.close()
            raise

    # --- the protocol -------------------------------------------------------------------------------

    def _write(self, message: dict) -> None:
        data = json.dumps(message).encode() + b"\0"
        while data:
            written = os.write(self._to_chrome, data)
            data = data[written:]

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"Chromium did not answer within {self.timeout_s:g} s")
            ready, _, _ = select.select([self._from_chrome], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise BrowserError("Chromium closed its DevTools pipe (it exited)")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _note(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            self.console.append(ConsoleMessage("warning" if params["type"] == "warning" else "error", text))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.console.append(ConsoleMessage("exception", text))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            self.console.append(ConsoleMessage(entry["level"], f"{entry.get('text', '')} {entry.get('url', '')}".strip()))
        elif method == "Network.requestWillBeSent":
            self.requests.append(params.get("request", {}).get("url", ""))
        self._events.append(message)

    def _call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._write(message)
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._note(reply)

    def send(self, method: str, params: dict | None = None) -> dict:
        """A protocol command to the page's session; its result."""
        return self._call(method, params, session=True)

    def _wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout_s
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method:
                    return self._events.pop(i)
            self._note(self._read_message(deadline))

    # --- what a caller uses ---------------------------------------------------------------------

    def set_viewport(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def open(self, path: str | Path, ready: str = "true", settle_s: float = 0.3) -> None:
        """Load a local file and wait for its load event and for the JavaScript `ready` to be true."""
        self._events.clear()
        url = Path(path).resolve().as_uri()
        self.send("Page.navigate", {"url": url})
        self._wait_event("Page.loadEventFired")
        deadline = time.monotonic() + self.timeout_s
        while not self.evaluate(ready):
            if time.monotonic() > deadline:
                raise BrowserError(f"the page at {url} never became ready ({ready})")
            time.sleep(0.1)
        time.sleep(settle_s)  # let late console messages arrive
        self.evaluate("0")

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(f"JavaScript failed: {details.get('exception', {}).get('description') or details.get('text')}")
        return result.get("result", {}).get("value")

    def screenshot(self, out: str | Path, selector: str | None = None, max_height: int | None = None) -> Path:
        """A PNG of the element `selector` (its first match), or of the whole page; its top `max_height` pixels."""
        if selector is None:
            box = self.evaluate("({x: 0, y: 0, width: document.documentElement.scrollWidth, "
                                "height: document.documentElement.scrollHeight})")
        else:
            box = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                                ".getBoundingClientRect(); return {x: r.x + window.scrollX, y: r.y + window.scrollY, "
                                "width: r.width, height: r.height}; })()")
        clip = {key: float(box[key]) for key in ("x", "y", "width", "height")}
        if max_height is not None:
            clip["height"] = min(clip["height"], float(max_height))
        clip["scale"] = 1
        data = self.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
        out = Path(out)
        out.write_bytes(base64.b64decode(data["data"]))
        return out

    def errors(self) -> list[ConsoleMessage]:
        return [m for m in self.console if m.level in ("error", "exception")]

    def close(self) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            try:
                self._call("Browser.close")
            except (BrowserError, OSError):
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for fd in (getattr(self, "_to_chrome", None), getattr(self, "_from_chrome", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._to_chrome = self._from_chrome = None
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
