"""Open every page of the built book in headless Chromium and fail on anything a reader would see broken.

    python tests/browser/check_pages.py _build/html

Checks, per page: MathJax finished with no math error and no formula left as raw
TeX; no console error or uncaught exception; every image loaded; no request left
the machine (the book must work offline); its Chinese text is drawn with the book's
own font (_static/book.css), glyph by glyph; one search entry point and the book's
title in view; launch and repository buttons only when _config.yml names the
repository, and then pointing at it. Across the site: every internal link and its
#anchor resolves; the header at 1440 and 1600 pixels and on a 390-pixel phone; the
offline search finds "truncated" on the BPTT page; dark mode keeps text readable and
figures on a light panel. Screenshots go to ``_build/screenshots``.

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

import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",  # containers (CI) give /dev/shm 64 MB
]
# Pages Sphinx generates that carry no book content.
SKIP_PAGES = {"genindex.html", "search.html"}
SCREENSHOTS = {"book/intro.html": "intro.png", "book/03_bptt.html": "bptt.png",
               "book/04_tensorflow.html": "tensorflow.png", "book/glossary.html": "glossary.png"}
# The header is checked on every page at 1280 pixels, and on these at the other widths.
HEADER_PAGES = ["book/intro.html", "book/03_bptt.html", "book/glossary.html"]
HEADER_WIDTHS = [1440, 1600, 390]
DARK_PAGES = ["book/03_bptt.html", "book/glossary.html"]
CJK_FAMILY = "Book CJK"
# What the offline search must find, and where.
SEARCH_TERM, SEARCH_PAGE = "truncated", "book/03_bptt.html"

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


# The page's Chinese text is drawn with the book's font: its face loaded, the text's elements
# ask for it first, and for every character the font draws a glyph that differs from what
# the browser's fallback draws (a box, on a machine without a CJK system font).
CJK_FONT_PROBLEMS = r"""async (family) => {
  const cjk = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/g;
  const chars = [...new Set(document.body.innerText.match(cjk) || [])];
  if (!chars.length) return {chars: 0, problems: []};
  await document.fonts.ready;
  const problems = [];
  const faces = [...document.fonts].filter(f => f.family.replace(/["']/g, '') === family);
  if (!faces.length) return {chars: chars.length, problems: ['no @font-face for ' + family]};
  await Promise.allSettled(faces.map(f => f.load()));
  if (!faces.some(f => f.status === 'loaded'))
    problems.push(family + ' font did not load: ' + faces.map(f => f.status).join(', '));
  if (!document.fonts.check(`16px "${family}"`, chars.join('')))
    problems.push('document.fonts.check fails for ' + family);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let node; (node = walker.nextNode());) {
    const el = node.parentElement;
    if (!el || seen.has(el) || !node.textContent.match(cjk) || el.closest('mjx-container, script, style')) continue;
    seen.add(el);
    const first = getComputedStyle(el).fontFamily.split(',')[0].replace(/["']/g, '').trim();
    if (first !== family)
      problems.push(`<${el.tagName.toLowerCase()}> "${node.textContent.trim().slice(0, 20)}" asks for ${first}`);
  }
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const draw = (font, ch) => {
    ctx.clearRect(0, 0, 64, 64); ctx.font = font; ctx.fillText(ch, 4, 52);
    return ctx.getImageData(0, 0, 64, 64).data.join();
  };
  // U+9FFF: inside the font's unicode-range, in no book and in no version of the font, so what
  // the stack draws for it is the missing-glyph box (Chromium may take that box from this font).
  const box = draw(`48px "${family}", serif`, '\u9fff');
  const drawnAlike = chars.filter(ch => {
    const drawn = draw(`48px "${family}", serif`, ch);
    return drawn === box || drawn === draw('48px serif', ch);
  });
  if (drawnAlike.length) problems.push(`not drawn with ${family}: ${drawnAlike.join('')}`);
  return {chars: chars.length, problems};
}"""

# One search entry point a reader can see and click, and (in the two-column layout) the book's
# title in view and not covered. `visible` means: laid out, inside the window, on top at its centre.
HEADER_PROBLEMS = """() => {
  const visible = e => {
    if (!e.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    const r = e.getBoundingClientRect();
    if (r.width < 4 || r.height < 4 || r.bottom <= 0 || r.top >= innerHeight || r.right <= 0 || r.left >= innerWidth)
      return false;
    const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
    const top = document.elementFromPoint(x, y);
    return !!top && (e === top || e.contains(top));
  };
  const problems = [];
  const searches = [...document.querySelectorAll('.search-button__button, form.bd-search')].filter(visible);
  if (searches.length !== 1)
    problems.push(`${searches.length} search entry points in view at ${innerWidth}px: ` +
                  searches.map(e => e.closest('[id]')?.id || e.className).join(', '));
  const sidebar = document.querySelector('.bd-sidebar-primary');
  const twoColumns = sidebar && getComputedStyle(sidebar).position !== 'fixed';
  const title = document.querySelector('.logo__title');
  if (twoColumns && !(title && visible(title)))
    problems.push(`book title not in view at ${innerWidth}px`);
  return problems;
}"""

# Every link in the article header that leaves the site (launch, repository buttons).
HEADER_LINKS = """() => [...document.querySelectorAll('.bd-header-article a[href]')]
  .map(a => a.href).filter(h => /^https?:/.test(h) && !h.startsWith(location.origin))"""

# Dark mode: body text contrast and a light panel behind every figure of a cell's output.
DARK_PROBLEMS = r"""() => {
  const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
  const linear = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(linear); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const problems = [];
  if (document.documentElement.dataset.theme !== 'dark') return {figures: 0, problems: ['dark mode did not switch on']};
  const bg = getComputedStyle(document.body).backgroundColor;
  const p = document.querySelector('article p');
  const ratio = contrast(getComputedStyle(p).color, bg);
  if (!(ratio >= 7)) problems.push(`body text contrast ${ratio.toFixed(1)} < 7 in dark mode`);
  if (!(lum(bg) < 0.1)) problems.push(`background ${bg} is not dark in dark mode`);
  const figures = [...document.querySelectorAll('article .cell_output img, article figure img')];
  figures.forEach(img => {
    const panel = getComputedStyle(img).backgroundColor;
    if (!(rgb(panel).length >= 3 && (rgb(panel)[3] ?? 1) > 0 && lum(panel) >= 0.5))
      problems.push(`figure ${img.getAttribute('src').slice(-20)} on panel ${panel}, not a light one`);
  });
  return {figures: figures.length, problems};
}"""


def configured_repository(root: Path = ROOT) -> str:
    """repository.url from _config.yml ("" when the book names none)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return (config.get("repository") or {}).get("url") or ""


def launch_problems(links: list[str], is_notebook: bool, repository: str) -> list[str]:
    """No launch or repository link without a repository; with one, every such link points at it."""
    if not repository:
        return [f"a launch or repository link although no repository is set: {h}" for h in links]
    owner_repo = urlsplit(repository).path.strip("/")
    problems = [f"link that names another repository: {h}" for h in links if owner_repo not in h]
    wanted = {"repository": repository}
    if is_notebook:
        wanted |= {"Colab": "colab.research.google.com/github/" + owner_repo, "Binder": "mybinder.org"}
    for name, part in wanted.items():
        if not any(part in h for h in links):
            problems.append(f"no {name} button")
    return problems


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


def _block_outside(page, base: str, found: list[str]) -> None:
    def block(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            found.append(f"request to the outside: {route.request.url}")
            route.abort()

    page.route(re.compile(r".*"), block)


def _open(context, base: str, rel: str, found: list[str]):
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and found.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: found.append(f"uncaught exception: {e}"))
    _block_outside(page, base, found)
    page.goto(base + rel, wait_until="load")
    page.evaluate(WAIT_FOR_MATH)
    return page


def site_problems(browser, base: str, screenshot_dir: Path) -> list[str]:
    """The checks made once for the site: other widths, search, dark mode."""
    problems: list[str] = []
    for width in HEADER_WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        for rel in HEADER_PAGES:
            found: list[str] = []
            page = _open(context, base, rel, found)
            found.extend(page.evaluate(HEADER_PROBLEMS))
            page.screenshot(path=str(screenshot_dir / f"{Path(rel).stem}-{width}.png"))
            problems.extend(f"{rel} at {width}px: {p}" for p in found)
            page.close()
        context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    found = []
    page = _open(context, base, f"search.html?q={SEARCH_TERM}", found)
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    except Exception as error:  # noqa: BLE001 (a timeout is the failure being reported)
        hits = []
        found.append(f"no search results ({type(error).__name__})")
    if not any(urlsplit(h).path.endswith("/" + SEARCH_PAGE) for h in hits):
        found.append(f"searching {SEARCH_TERM!r} does not find {SEARCH_PAGE} (found {len(hits)} pages)")
    problems.extend(f"search: {p}" for p in found)
    page.close()
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    figures = 0
    for rel in DARK_PAGES:
        found = []
        page = _open(context, base, rel, found)
        dark = page.evaluate(DARK_PROBLEMS)
        figures += dark["figures"]
        found.extend(dark["problems"])
        page.screenshot(path=str(screenshot_dir / f"{Path(rel).stem}-dark.png"))
        problems.extend(f"{rel} in dark mode: {p}" for p in found)
        page.close()
    context.close()
    if figures == 0:
        problems.append(f"dark mode: no figure on {DARK_PAGES} to check")
    return problems


def page_problems(site: Path, screenshot_dir: Path, repository: str | None = None) -> list[str]:
    repository = configured_repository() if repository is None else repository
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
            cjk_pages = 0
            for rel in pages:
                found: list[str] = []
                page = _open(context, base, rel, found)
                found.extend(page.evaluate(MATH_PROBLEMS))
                cjk = page.evaluate(CJK_FONT_PROBLEMS, CJK_FAMILY)
                cjk_pages += cjk["chars"] > 0
                found.extend(cjk["problems"])
                found.extend(page.evaluate(HEADER_PROBLEMS))
                is_notebook = (site / "_sources" / rel).with_suffix(".ipynb").exists()
                found.extend(launch_problems(page.evaluate(HEADER_LINKS), is_notebook, repository))
                if rel in SCREENSHOTS:
                    page.screenshot(path=str(screenshot_dir / SCREENSHOTS[rel]), full_page=False)
                page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
                found.extend(f"scrolled: {p}" for p in page.evaluate(HEADER_PROBLEMS))
                problems.extend(f"{rel}: {p}" for p in found)
                page.close()
            if cjk_pages == 0:
                problems.append("no page has Chinese text: the font check checked nothing")
            problems.extend(site_problems(browser, base, screenshot_dir))
            browser.close()
    finally:
        server.shutdown()
    print(f"opened {len(pages)} pages in Chromium ({cjk_pages} with Chinese text), "
          f"the header at {HEADER_WIDTHS} px, search and dark mode")
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
