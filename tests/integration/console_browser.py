#!/usr/bin/env python3
# console_browser.py - drives a real headless Chromium (Debian's chromium
# and chromium-driver, over the W3C WebDriver protocol: plain HTTP and
# JSON, so Python's standard library is all it needs) through dtxd's
# operator console, as an operator would at 3 a.m.:
#
#   1. open the console; the transaction GID must be listed under
#      "Needing an operator";
#   2. click it; its branches and timeline must show (the branch that is
#      retried for ever with its error, the branch that went through);
#   3. filter the list by a piece of the gid; GID must be in the result;
#   4. save a screenshot (PNG) to SHOT, also when a check fails.
#
# Every wait is bounded. Exit 0 if every check passed, 1 with the reason
# (and the page's text) otherwise, 77 (skip) if no browser is installed.
#
# Usage: console_browser.py URL GID SHOT
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

WAIT_S = 30  # one element or one text to appear (a loaded machine)


class Failed(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """A WebDriver session on a chromedriver of our own."""

    def __init__(self, chromium, chromedriver, profile):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [chromedriver, "--port=%d" % self.port],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = "http://127.0.0.1:%d" % self.port
        self.sid = None
        self._await_driver()
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--window-size=1280,1400",
                         "--user-data-dir=" + profile],
            }}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def _await_driver(self):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/status", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise Failed("chromedriver did not start within %d s" % WAIT_S)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return json.loads(res.read())["value"]
        except urllib.error.HTTPError as e:
            raise Failed("webdriver %s %s: %s" % (method, path,
                                                  e.read()[:300]))

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.sid, path), body)

    def find_all(self, css):
        found = self.s("POST", "/elements",
                       {"using": "css selector", "value": css})
        return [list(e.values())[0] for e in found]

    def text(self, elem):
        return self.s("GET", "/element/%s/text" % elem)

    def click(self, what, css):
        # the console refreshes its tables every few seconds: an element
        # found a moment ago may be gone (stale); find it again
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            found = self.find_all(css)
            try:
                if found:
                    self.s("POST", "/element/%s/click" % found[0], {})
                    return
            except Failed as e:
                if "stale element" not in str(e):
                    raise
            time.sleep(0.1)
        raise Failed("%s: could not click within %d s" % (what, WAIT_S))

    def wait_for(self, what, fn):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        raise Failed("%s: not seen within %d s" % (what, WAIT_S))

    def page_text(self):
        try:
            return text_of(self, "body")
        except Failed:
            return "(no page)"

    def screenshot(self, path):
        self.s("POST", "/execute/sync",
               {"script": "window.scrollTo(0, 0);", "args": []})
        png = base64.b64decode(self.s("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def quit(self):
        try:
            if self.sid is not None:
                self.s("DELETE", "")
        except Failed:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def row_texts(d, css):
    # read in one script call: a refresh between reads would make the
    # rows stale
    return d.s("POST", "/execute/sync", {
        "script": "return Array.from(document.querySelectorAll(arguments[0]))"
                  ".map((e) => e.innerText);",
        "args": [css]})


def text_of(d, css):
    rows = row_texts(d, css)
    return rows[0] if rows else ""


def check(d, url, gid):
    d.s("POST", "/url", {"url": url})
    # 1. listed first, under "Needing an operator"
    css = '#needs-rows a.gid[data-gid="%s"]' % gid
    d.wait_for("%s under 'Needing an operator'" % gid,
               lambda: d.find_all(css))
    # 2. its branches and timeline
    d.click(gid, css)
    d.wait_for("the title 'Transaction %s'" % gid,
               lambda: text_of(d, "#tx-title") == "Transaction " + gid)
    d.wait_for("timeline rows", lambda: d.find_all("#timeline-rows tr"))
    summary = text_of(d, "#tx-summary")
    if "needs operator\nyes" not in summary:
        raise Failed("the summary does not say it needs an operator:\n"
                     + summary)
    branches = [r.split("\t") for r in row_texts(d, "#branch-rows tr")]
    if len(branches) != 2:
        raise Failed("2 branches expected, got %r" % branches)
    if branches[0][:2] != ["0", "done"]:
        raise Failed("branch 0 should be done: %r" % branches[0])
    if branches[1][:2] != ["1", "acting"] or "p1.flaky" not in \
            branches[1][3] or branches[1][5] != "action retry":
        raise Failed("branch 1 should be acting p1.flaky, last error "
                     "'action retry': %r" % branches[1])
    # the timeline (its newest lines): branch 1 is retried
    timeline = [r.split("\t") for r in row_texts(d, "#timeline-rows tr")]
    if not any(t[3:] == ["1", "acting", "action retry"] for t in timeline):
        raise Failed("the timeline lacks branch 1's 'action retry':\n%r"
                     % timeline[:20])
    # 3. the filterable list, by a piece of the gid
    box = d.find_all("#f-gid")[0]
    d.s("POST", "/element/%s/value" % box, {"text": gid[1:-1]})
    d.click("Apply", "#f-apply")
    d.wait_for("%s in the filtered list" % gid,
               lambda: d.find_all('#list-rows a.gid[data-gid="%s"]' % gid))
    return summary, branches, timeline


def main():
    if len(sys.argv) != 4:
        print("usage: console_browser.py URL GID SHOT", file=sys.stderr)
        return 2
    url, gid, shot = sys.argv[1:]
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        print("skip: chromium and chromium-driver are not installed "
              "(scripts/setup.sh installs them)")
        return 77
    with tempfile.TemporaryDirectory(prefix="dtx-console-") as profile:
        d = None
        try:
            d = Driver(chromium, chromedriver, profile)
            summary, branches, timeline = check(d, url, gid)
            print("console shows %s:\n%s\nbranches:\n%s\ntimeline "
                  "(%d lines), last: %s" % (
                      gid, summary, "\n".join(" | ".join(b)
                                              for b in branches),
                      len(timeline), " | ".join(timeline[-1])))
            return 0
        except Failed as e:
            page = d.page_text() if d else ""
            print("FAIL: %s\n--- page (first 3000 bytes) ---\n%s"
                  % (e, page[:3000]))
            return 1
        finally:
            if d is not None and d.sid is not None:
                try:
                    d.screenshot(shot)
                    print("screenshot: %s" % os.path.abspath(shot))
                except Failed as e:
                    print("no screenshot: %s" % e)
            if d is not None:
                d.quit()


sys.exit(main())
