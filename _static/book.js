// rnnlib course: the sidebar's table of contents scrolls on its own (_static/book.css keeps the
// book's title and the search box above it); bring the current page's entry into view there.
document.addEventListener("DOMContentLoaded", () => {
  const nav = document.querySelector(".bd-sidebar-primary .sidebar-primary-item:has(.bd-docs-nav)");
  const active = nav && [...nav.querySelectorAll("a.current, li.active > a")].pop();
  if (!active) return;
  const below = active.getBoundingClientRect().bottom - nav.getBoundingClientRect().bottom;
  if (below > 0) nav.scrollTop += below + nav.clientHeight / 3;
});
