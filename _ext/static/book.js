// The menu (primary sidebar) and page-contents (secondary sidebar) buttons. pydata-sphinx-theme and
// sphinx-book-theme each render a button of the same class, and the themes' scripts wire only the first,
// hidden one (pydata-sphinx-theme #2451, sphinx-book-theme #988). The visible buttons pass their clicks
// (and so Enter and Space) on to it, and tell assistive technology whether their sidebar is open.
document.addEventListener("DOMContentLoaded", () => {
  for (const side of ["primary", "secondary"]) {
    const [wired, ...visible] = document.querySelectorAll(`.${side}-toggle`);
    const dialog = document.getElementById(`pst-${side}-sidebar-modal`);
    const sidebar = document.getElementById(`pst-${side}-sidebar`);
    if (!wired || !dialog || !sidebar) continue;
    // Open: as a drawer (a dialog) on a narrow screen; beside the page, unless folded away, on a wide one.
    const open = () =>
      dialog.open ||
      (side === "primary" &&
        window.matchMedia("(min-width: 992px)").matches &&
        !sidebar.classList.contains("pst-sidebar-hidden"));
    const update = () => visible.forEach((button) => button.setAttribute("aria-expanded", String(open())));
    for (const button of visible) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        wired.click();
        update();
      });
    }
    dialog.addEventListener("close", update);
    window.addEventListener("resize", update);
    update();
  }
});
