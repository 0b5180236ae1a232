"""Open every page of the built book in headless Chromium and fail on anything a reader would see broken.

    python tests/browser/check_pages.py _build/html

Checks, per page: MathJax finished with no math error and no formula left as raw
TeX; no console error or uncaught exception; every image loaded; no request left
the machine (the book must work offline). Across the site: every internal link
and its #anchor resolves. Screenshots of a few pages go to ``_build/screenshots``.

Uses Playwright's Python package with Debian's Chromium (``executable_path``);
Playwright's own browser download is not needed.
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Pages Sphinx generates that carry no book content.
SKIP_PAGES = {"genindex.html", "search.html"}
SCREENSHOTS = {"book/intro.html": "intro.png", "book/03_bptt.html": "bptt.png",
               "book/04_tensorflow.html": "tensorflow.png"}

# Wait for MathJax 3 to finish typesetting (it may be absent on pages without math).
WAIT_FOR_MATH = """async () => {
  if (!window.MathJax) return;
  for (let i = 0; i < 200 && !(MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  await MathJax.startup.promise;
  if (MathJax.typesetPromise) await MathJax.typesetPromise();
}"""
MATH_PROBLEMS = """() => {
  const problems = [];
  document.querySelectorAll('mjx-merror, [data-mjx-error]').forEach(e =>
    problems.push('math error: ' + (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)));
  document.querySelectorAll('.math').forEach(e => {
    if (!e.querySelector('mjx-container') && !e.closest('mjx-container'))
      problems.push('math left untypeset: ' + e.textContent.trim().slice(0, 80));
  });
  document.querySelectorAll('img').forEach(img => {
    if (!img.complete || img.naturalWidth === 0) problems.push('image not loaded: ' + img.getAttribute('src'));
  });
  return problems;
}"""


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def _parse(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(site: Path) -> list[str]:
    """Internal links whose file or #anchor does not exist."""
    problems = []
    parsed = {p: _parse(p) for p in site.rglob("*.html") if "_static" not in p.parts}
    for page, anchors in parsed.items():
        for href in anchors.links:
            if urlsplit(href).scheme or href.startswith(("//", "mailto:")):
                continue
            target_part, fragment = urldefrag(href)
            target = (page.parent / unquote(target_part)).resolve() if target_part else page
            rel = page.relative_to(site)
            if not target.exists():
                problems.append(f"{rel}: link to missing file {href}")
            elif fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(fragment) not in ids:
                    problems.append(f"{rel}: link to missing anchor {href}")
    return problems


def _is_redirect(page: Path) -> bool:
    """Jupyter Book writes index.html as a meta-refresh redirect to the root page."""
    return 'http-equiv="Refresh"' in page.read_text(encoding="utf-8")[:2000]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(site: Path):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def page_problems(site: Path, screenshot_dir: Path) -> list[str]:
    problems = []
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "_static" not in p.parts and p.name not in SKIP_PAGES and not _is_redirect(p))
    server = _serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            for rel in pages:
                page = context.new_page()
                found: list[str] = []
                page.on("console", lambda m, f=found: m.type == "error" and f.append(f"console error: {m.text}"))
                page.on("pageerror", lambda e, f=found: f.append(f"uncaught exception: {e}"))

                def block_outside(route, f=found):
                    if route.request.url.startswith(base):
                        route.continue_()
                    else:
                        f.append(f"request to the outside: {route.request.url}")
                        route.abort()

                page.route(re.compile(r".*"), block_outside)
                page.goto(base + rel, wait_until="load")
                page.evaluate(WAIT_FOR_MATH)
                found.extend(page.evaluate(MATH_PROBLEMS))
                if rel in SCREENSHOTS:
                    page.screenshot(path=str(screenshot_dir / SCREENSHOTS[rel]), full_page=False)
                problems.extend(f"{rel}: {p}" for p in found)
                page.close()
            browser.close()
    finally:
        server.shutdown()
    print(f"opened {len(pages)} pages in Chromium")
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "_build/html").resolve()
    if not (site / "index.html").exists():
        print(f"site: expected a built book with index.html, got {site}", file=sys.stderr)
        return 2
    problems = broken_links(site) + page_problems(site, site.parent / "screenshots")
    for problem in problems:
        print("FAIL", problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
