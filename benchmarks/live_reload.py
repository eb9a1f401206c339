"""Live reload speed of `tkit serve` against the `livereload` package, in headless Chromium, same page.

Both servers serve the same page (one stylesheet, one heading) to their own tab. For each of N edits:
rewrite the stylesheet and time until the tab's computed style shows it (both swap CSS in place), then
rewrite the page's template (tkit: a Tornado template; livereload: the HTML file it serves) and time until
the reloaded tab shows the new heading. Prints median and p90 for each, and the ratio. tkit also gets a
Python edit (the page reloads once the new app process serves; livereload has no equivalent).
Times come from the browser's own clock (an init script marks when the style changed or the new
document was parsed), so they carry no Playwright round trips. livereload drops any change made within
3 s of its previous reload, so its edits are spaced 3.2-3.6 s apart (tkit's 0.5-0.9 s).
Run: python benchmarks/live_reload.py [--edits 20]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import playwright.sync_api as playwright_api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import free_port, launch_chromium, stop_process_group, wait_for_http

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Bench</title><link rel="stylesheet" href="/static/style.css"></head>
<body><h1>{heading}</h1><p>Live reload benchmark page.</p><input name="kept"></body></html>
"""
TKIT_APP = """\
import os
import tornado.web
from bench_handlers import Page

HERE = os.path.dirname(__file__)


def make_app():
    return tornado.web.Application(
        [(r"/", Page)], template_path=os.path.join(HERE, "templates"), static_path=os.path.join(HERE, "static")
    )
"""
HANDLERS = """\
import tornado.web

VERSION = {version!r}


class Page(tornado.web.RequestHandler):
    def get(self):
        self.set_header("X-Version", VERSION)
        self.render("index.html", version=VERSION)
"""
LIVERELOAD_RUNNER = """\
import sys
from livereload import Server

server = Server()
server.watch("static/*.css")
server.watch("index.html")
server.serve(port=int(sys.argv[1]), host="127.0.0.1", root=".", open_url_delay=None)
"""
TIMEOUT_MS = 10_000


@dataclass
class Series:
    """Write-to-visible times (ms) of one kind of edit on one server, and the edits never seen."""

    times: list[float] = field(default_factory=list)
    missed: int = 0

    def line(self, label: str) -> str:
        if not self.times:
            return f"{label:<34} no edit became visible ({self.missed} missed)"
        p90 = statistics.quantiles(self.times, n=10)[-1] if len(self.times) > 1 else self.times[0]
        missed = f"   missed {self.missed}" if self.missed else ""
        return f"{label:<34} median {statistics.median(self.times):7.1f} ms   p90 {p90:7.1f} ms{missed}"


def make_tkit_site(folder: Path) -> Path:
    """The page as a Tornado app for `tkit serve --app bench_app:make_app`."""
    (folder / "templates").mkdir(parents=True)
    (folder / "static").mkdir()
    (folder / "bench_app.py").write_text(TKIT_APP)
    (folder / "bench_handlers.py").write_text(HANDLERS.format(version="py-0"))
    (folder / "templates" / "index.html").write_text(PAGE.format(heading="v-0"))
    (folder / "static" / "style.css").write_text("body { background-color: rgb(0, 1, 2); }\n")
    return folder


def make_livereload_site(folder: Path) -> Path:
    """The same page as files for `livereload` (it serves and watches a folder)."""
    (folder / "static").mkdir(parents=True)
    (folder / "index.html").write_text(PAGE.format(heading="v-0"))
    (folder / "static" / "style.css").write_text("body { background-color: rgb(0, 1, 2); }\n")
    (folder / "run_livereload.py").write_text(LIVERELOAD_RUNNER)
    return folder


def start(command: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


# Injected into every document of the benchmark's tabs by Playwright (not by either server): the browser's
# own wall clock marks when a document was parsed and when a stylesheet change took effect, so the
# figures carry no Playwright round trips. Python marks the file write with the same clock (time.time()).
PROBE = """
window.__benchParsed = null;
document.addEventListener("DOMContentLoaded", () => { window.__benchParsed = Date.now(); });
window.__benchWatchStyle = (colour) => {
  window.__benchStyled = null;
  const tick = () => {
    if (getComputedStyle(document.body).backgroundColor === colour) window.__benchStyled = Date.now();
    else setTimeout(tick, 1);
  };
  tick();
};
"""


def stylesheet_edit(page: playwright_api.Page, stylesheet: Path, n: int, series: Series) -> None:
    """Write the stylesheet; time until the tab's computed style shows it (by the browser's clock)."""
    colour = f"rgb({n}, 1, 2)"
    page.evaluate("(colour) => window.__benchWatchStyle(colour)", colour)
    written = 1000.0 * time.time()
    stylesheet.write_text(f"body {{ background-color: {colour}; }}\n")
    try:
        page.wait_for_function("() => window.__benchStyled !== null", timeout=TIMEOUT_MS)
    except playwright_api.TimeoutError:
        series.missed += 1
        return
    series.times.append(page.evaluate("() => window.__benchStyled") - written)


def page_edit(page: playwright_api.Page, path: Path, text: str, heading: str, series: Series) -> None:
    """Write a template or module; time until a reloaded document with `heading` was parsed."""
    written = 1000.0 * time.time()
    path.write_text(text)
    try:
        page.wait_for_selector(f"h1:text-is('{heading}')", timeout=TIMEOUT_MS)
        page.wait_for_function("() => window.__benchParsed !== null", timeout=TIMEOUT_MS)
    except playwright_api.TimeoutError:
        series.missed += 1
        return
    series.times.append(page.evaluate("() => window.__benchParsed") - written)


def measure(
    page: playwright_api.Page, stylesheet: Path, template: Path, edits: int, rng: random.Random, gap: float
) -> dict[str, Series]:
    """Stylesheet then template edits, alternating, `gap` to `gap` + 0.4 s apart (random: no poll phase
    is favoured)."""
    results = {"stylesheet": Series(), "template": Series()}
    for n in range(1, edits + 1):
        stylesheet_edit(page, stylesheet, n, results["stylesheet"])
        time.sleep(rng.uniform(gap, gap + 0.4))
        page_edit(page, template, PAGE.format(heading=f"v-{n}"), f"v-{n}", results["template"])
        time.sleep(rng.uniform(gap, gap + 0.4))
    return results


def measure_python(page: playwright_api.Page, handlers: Path, edits: int, rng: random.Random) -> Series:
    """tkit only: a handler edit, until the tab has parsed a page from the new app process."""
    series = Series()
    template = handlers.parent / "templates" / "index.html"
    page_edit(page, template, PAGE.format(heading="{{ version }}"), "py-0", Series())  # the heading from Python
    time.sleep(1.0)
    for n in range(1, edits + 1):
        page_edit(page, handlers, HANDLERS.format(version=f"py-{n}"), f"py-{n}", series)
        time.sleep(rng.uniform(0.5, 1.0))
    return series


def open_tab(browser: playwright_api.Browser, url: str, ready: str) -> playwright_api.Page:
    context = browser.new_context()
    context.add_init_script(PROBE)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function(ready, timeout=TIMEOUT_MS)
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(13)
    with tempfile.TemporaryDirectory(prefix="tkit-live-bench-") as tmp:
        root = Path(tmp)
        tkit_site = make_tkit_site(root / "tkit")
        lr_site = make_livereload_site(root / "livereload")
        tkit_port, lr_port = free_port(), free_port()
        tkit = start(
            [sys.executable, "-m", "tornado_kit", "serve", "--app", "bench_app:make_app", "--port", str(tkit_port)],
            tkit_site,
            root / "tkit.log",
        )
        livereload = start([sys.executable, "run_livereload.py", str(lr_port)], lr_site, root / "livereload.log")
        try:
            wait_for_http(f"http://127.0.0.1:{tkit_port}/", timeout=30)
            wait_for_http(f"http://127.0.0.1:{lr_port}/", timeout=30)
            run(tkit_site, lr_site, tkit_port, lr_port, args.edits, rng)
        finally:
            stop_process_group(tkit)
            stop_process_group(livereload)


def run(tkit_site: Path, lr_site: Path, tkit_port: int, lr_port: int, edits: int, rng: random.Random) -> None:
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            tkit_tab = open_tab(
                browser, f"http://127.0.0.1:{tkit_port}/", "() => window.__tkitLiveReload.connected === true"
            )
            lr_tab = open_tab(browser, f"http://127.0.0.1:{lr_port}/", "() => Boolean(window.LiveReload)")
            time.sleep(1.0)  # livereload.js opens its WebSocket after loading
            tkit = measure(
                tkit_tab, tkit_site / "static" / "style.css", tkit_site / "templates" / "index.html", edits, rng, 0.5
            )
            # livereload ignores any change within 3 s of its previous reload (DEFAULT_RELOAD_TIME)
            other = measure(lr_tab, lr_site / "static" / "style.css", lr_site / "index.html", edits, rng, 3.2)
            python = measure_python(tkit_tab, tkit_site / "bench_handlers.py", edits, rng)
        finally:
            browser.close()
    report(tkit, other, python, edits)


def report(tkit: dict[str, Series], other: dict[str, Series], python: Series, edits: int) -> None:
    load = os.getloadavg()[0]
    print(f"live reload: file write -> change visible in headless Chromium, {edits} edits each")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}")
    for kind in ("stylesheet", "template"):
        print(tkit[kind].line(f"tkit serve, {kind}"))
        print(other[kind].line(f"livereload {_version()}, {kind}"))
        if tkit[kind].times and other[kind].times:
            ratio = statistics.median(other[kind].times) / statistics.median(tkit[kind].times)
            print(f"{'':<34} {ratio:.1f}x faster than livereload (median)")
    print(python.line("tkit serve, Python edit (new process)"))


def _version() -> str:
    from importlib import metadata

    return metadata.version("livereload")


if __name__ == "__main__":
    main()
