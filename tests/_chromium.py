"""A headless Chromium driven over the DevTools protocol, standard library only.

Chromium is started with ``--remote-debugging-pipe``: it reads protocol
messages from file descriptor 3 and writes its own to descriptor 4, each a JSON
object ended by a NUL byte (what Playwright and Puppeteer use), so no websocket
client and no browser download are needed; Debian's ``chromium`` package is
enough.

:func:`check_page` opens a URL in a fresh tab and returns what a reader would
notice: a blank screenshot, images that did not load, console errors and
uncaught exceptions.
"""

import base64
import fcntl
import io
import json
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
from PIL import Image

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Every <img> made eager (a lazy image below the fold would never load in a
# headless window), then awaited; then each image's source and natural width.
_IMAGES = """
(async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done);
  })));
  return images.map(img => [img.currentSrc || img.src, img.naturalWidth]);
})()
"""


def find_chromium():
    """The Chromium executable: ``SKMNIST_CHROMIUM``, else the first on PATH."""
    if os.environ.get("SKMNIST_CHROMIUM"):
        return shutil.which(os.environ["SKMNIST_CHROMIUM"])
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _above_4(fd):
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class ChromiumError(RuntimeError):
    """Chromium exited, or did not answer in time."""


class Chromium:
    """One headless Chromium process; use as a context manager."""

    def __init__(self, executable, *, width=1280, height=900, timeout=30):
        self.executable = executable
        self.size = (width, height)
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self.events = []

    def __enter__(self):
        self._profile = tempfile.mkdtemp(prefix="skmnist-chromium-")
        ours_read, chrome_write = os.pipe()  # Chromium writes to its fd 4
        chrome_read, ours_write = os.pipe()  # Chromium reads from its fd 3
        # Out of the way of 3 and 4, so that neither dup2 below clobbers the other.
        chrome_read, chrome_write = _above_4(chrome_read), _above_4(chrome_write)
        args = [
            self.executable,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}",
            f"--window-size={self.size[0]},{self.size[1]}",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-dev-shm-usage",
            "--mute-audio",
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses root otherwise

        def fds_3_and_4():
            os.dup2(chrome_read, 3)
            os.dup2(chrome_write, 4)

        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Kept open in the child, which closes every other descriptor after
            # preexec_fn has put the pipes' ends there.
            pass_fds=(3, 4),
            preexec_fn=fds_3_and_4,
        )
        os.close(chrome_read)
        os.close(chrome_write)
        self._read = os.fdopen(ours_read, "rb", buffering=0)
        self._write = os.fdopen(ours_write, "wb", buffering=0)
        try:
            self.version = self.call("Browser.getVersion")["product"]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self.process.poll() is None:
                try:
                    self._send("Browser.close", {}, None)
                    self.process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    self.process.kill()
                    self.process.wait()
        finally:
            for stream in (self._read, self._write):
                try:
                    stream.close()
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)

    # -- the protocol ------------------------------------------------------------

    def _send(self, method, params, session):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._write.write(json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise ChromiumError("Chromium did not answer in time")
            chunk = self._read.read(1 << 16)
            if not chunk:
                raise ChromiumError(f"Chromium exited (code {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None):
        """Send one command and return its result; events are kept in ``events``."""
        wanted = self._send(method, params or {}, session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise ChromiumError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method, session, since):
        """Wait for the event ``method`` of ``session`` (not before ``since``)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events[since:]:
                if event["method"] == method and event.get("sessionId") == session:
                    return event
            since = len(self.events)
            self.events.append(self._receive(deadline))

    # -- one page ---------------------------------------------------------------

    def check_page(self, url, screenshot=None):
        """Open ``url`` in a new tab; return its problems (none: it renders) and stats.

        The problems: the load did not finish, the screenshot is (nearly) one
        colour, an ``<img>`` has no natural width (did not load or decode), a
        console error, a failed request logged by the browser, an uncaught
        exception. ``screenshot``, a path, keeps the PNG.
        """
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        try:
            return self._check(url, session, screenshot)
        finally:
            self.call("Target.closeTarget", {"targetId": target})

    def _check(self, url, session, screenshot):
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=session)
        since = len(self.events)
        navigation = self.call("Page.navigate", {"url": url}, session)
        problems = []
        if navigation.get("errorText"):
            return [f"navigation failed: {navigation['errorText']}"], {}
        self.wait_for("Page.loadEventFired", session, since)
        images = self.call(
            "Runtime.evaluate",
            {"expression": _IMAGES, "awaitPromise": True, "returnByValue": True},
            session,
        )["result"]["value"]
        for src, width in images:
            if not width:
                problems.append(f"image did not load: {src[:120]}")
        shot = self.call(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": False},
            session,
        )["data"]
        png = base64.b64decode(shot)
        if screenshot:
            with open(screenshot, "wb") as f:
                f.write(png)
        grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
        if grey.std() < 5:
            problems.append(f"blank screenshot (pixel std {grey.std():.1f})")
        # Let late console messages arrive, then read this session's events.
        self.call("Runtime.evaluate", {"expression": "1"}, session)
        for event in self.events[since:]:
            if event.get("sessionId") != session:
                continue
            params = event.get("params", {})
            if event["method"] == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "assert",
            ):
                text = " ".join(
                    str(a.get("value", a.get("description"))) for a in params["args"]
                )
                problems.append(f"console error: {text[:200]}")
            elif event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = (
                    details.get("exception", {}).get("description") or details["text"]
                )
                problems.append(f"uncaught exception: {text[:200]}")
            elif (
                event["method"] == "Log.entryAdded"
                and params["entry"]["level"] == "error"
            ):
                entry = params["entry"]
                if entry.get("url", "").endswith("/favicon.ico"):
                    continue  # the browser's own guess, which no page asks for
                problems.append(
                    f"browser error: {entry['text'][:200]} {entry.get('url', '')}"
                )
        return problems, {"images": len(images), "pixel_std": float(grey.std())}
