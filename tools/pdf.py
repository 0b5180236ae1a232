"""Print the whole book to one PDF, offline: ``python -m tools.pdf SITE OUT.pdf`` (``./dev pdf``).

SITE is Jupyter Book's single-page build (``jupyter-book build . --builder singlehtml``),
every chapter on one page with MathJax and the Chinese font served from its _static.
Headless Chromium (Debian's, through Playwright, as the browser test) opens it, waits for
MathJax to typeset every formula, opens the cells whose code is folded away, puts a table
of contents after the title, and prints it: A4, links and bookmarks kept. No TeX needed.
tests/test_pdf.py renders pages of the result to PNG and checks them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from check_pages import CHROMIUM, CHROMIUM_ARGS, MATH_PROBLEMS, WAIT_FOR_MATH, _serve  # noqa: E402

ROOT_PAGE = "book/intro.html"
# Sphinx's singlehtml writes the root page to book/intro.html but its links as if it sat at
# the site's root; printed from there (a copy), every script, image and font resolves.
PRINTED_PAGE = "print.html"

# After MathJax: unfold hidden code, and write a table of contents (chapters and their
# sections, numbered as in the book) after the book's title.
PREPARE = r"""() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  // singlehtml puts each page of the table of contents in a toctree wrapper, in order.
  const chapters = [...article.querySelectorAll('div.toctree-wrapper > section')];
  const text = h => h.innerText.replace(/#\s*$/, '').replace(/\s+/g, ' ').trim();
  const nav = document.createElement('nav');
  nav.id = 'pdf-contents';
  nav.innerHTML = '<h2>Contents</h2>';
  const list = document.createElement('ol');
  for (const chapter of chapters) {
    const heading = chapter.querySelector(':scope > h1, :scope > h2');
    if (!heading) continue;
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = '#' + chapter.id;
    link.textContent = text(heading);
    item.appendChild(link);
    const sections = [...chapter.querySelectorAll(':scope > section')]
      .map(s => [s.id, s.querySelector(':scope > h2, :scope > h3')]).filter(([, h]) => h);
    if (sections.length) {
      const sub = document.createElement('ol');
      for (const [id, h] of sections) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = '#' + id;
        a.textContent = text(h);
        li.appendChild(a);
        sub.appendChild(li);
      }
      item.appendChild(sub);
    }
    list.appendChild(item);
  }
  nav.appendChild(list);
  const title = article.querySelector('h1');
  title.after(nav);
  const style = document.createElement('style');
  style.textContent = `
    #pdf-contents ol { list-style: none; padding-left: 0; }
    #pdf-contents ol ol { padding-left: 1.5em; font-size: 0.9em; }
    #pdf-contents { break-after: page; }
    div.toctree-wrapper > section { break-before: page; }
    .headerlink, .toggle-details__summary, button { display: none !important; }
    .bd-page-width, .bd-main .bd-content .bd-article-container { max-width: 100% !important; }
    div.highlight pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
    @page { margin: 16mm 14mm; }`;
  document.head.appendChild(style);
  return chapters.length;
}"""


def print_book(site: Path, out: Path) -> dict:
    """Print site's single-page book to out; returns what was printed (chapters, problems)."""
    (site / PRINTED_PAGE).write_bytes((site / ROOT_PAGE).read_bytes())
    server = _serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    problems: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                       else (problems.append(f"request to the outside: {route.request.url}"), route.abort()))
            page.goto(base + PRINTED_PAGE, wait_until="load", timeout=300_000)
            # One page holds every formula of the book: MathJax takes a while to start and typeset.
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=120_000)
            page.evaluate(WAIT_FOR_MATH)
            problems.extend(page.evaluate(MATH_PROBLEMS))
            chapters = page.evaluate(PREPARE)
            page.evaluate("document.fonts.ready.then(() => true)")
            page.emulate_media(media="print")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(path=str(out), format="A4", print_background=True, outline=True, tagged=True,
                     prefer_css_page_size=False)
            browser.close()
    finally:
        server.shutdown()
    return {"chapters": chapters, "problems": problems}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m tools.pdf SINGLEHTML_SITE OUT.pdf", file=sys.stderr)
        return 2
    site, out = Path(argv[1]).resolve(), Path(argv[2]).resolve()
    if not (site / ROOT_PAGE).exists():
        print(f"site: expected a single-page build with {ROOT_PAGE}, got {site}", file=sys.stderr)
        return 2
    result = print_book(site, out)
    for problem in result["problems"]:
        print("FAIL", problem)
    print(f"{out}: {result['chapters']} top-level sections, {out.stat().st_size // 1024} KiB")
    return 1 if result["problems"] or not result["chapters"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
