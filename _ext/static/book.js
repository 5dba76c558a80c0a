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

// The claims ledger and the scorecards: each cell is labelled with its column (the cards on a phone show the
// labels) and each row says its verdict (its colour in book.css). The ledger's rows also say their kind and
// chapter, and three drop-down lists above it show only the claims of one verdict, kind or chapter; a line under
// them says how many claims are shown.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.claims-ledger")) {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.cells].forEach((cell, column) => cell.setAttribute("data-label", headings[column] || ""));
      row.dataset.verdict = row.cells[2].textContent.split(/\sas of/)[0].trim();
    }
  }
  const table = document.querySelector("table.claims-ledger");
  if (!table || !table.querySelector('tbody tr[id^="claim-"]')) return;
  const rows = [...table.querySelectorAll("tbody tr")];
  const chapterOf = (link) => {
    if (!link) return "";
    const file = link.getAttribute("href").split("#")[0];
    const entry = document.querySelector(`.bd-sidenav a[href$="${file}"]`);
    return entry ? entry.textContent.trim() : file.replace(/\.html$/, "");
  };
  for (const row of rows) {
    row.dataset.kind = row.cells[0].textContent.split(",").pop().trim();
    row.dataset.chapter = chapterOf(row.cells[4].querySelector("a.reference.internal"));
  }
  const form = document.createElement("form");
  form.className = "claims-filters";
  form.setAttribute("aria-label", "Filter the claims");
  const status = document.createElement("p");
  status.className = "claims-filters-status";
  status.setAttribute("role", "status");
  const filters = [
    ["verdict", "Verdict"],
    ["kind", "Kind"],
    ["chapter", "Chapter"],
  ].map(([key, name]) => {
    const label = document.createElement("label");
    const select = document.createElement("select");
    select.id = `claims-filter-${key}`;
    select.dataset.key = key;
    label.htmlFor = select.id;
    label.textContent = name;
    const values = [...new Set(rows.map((row) => row.dataset[key]))].filter(Boolean);
    if (key !== "chapter") values.sort();
    for (const [value, text] of [["", "all"], ...values.map((value) => [value, value])]) {
      select.append(new Option(text, value));
    }
    const field = document.createElement("div");
    field.append(label, select);
    form.append(field);
    return select;
  });
  const apply = () => {
    let shown = 0;
    for (const row of rows) {
      row.hidden = !filters.every((select) => !select.value || row.dataset[select.dataset.key] === select.value);
      shown += row.hidden ? 0 : 1;
    }
    status.textContent = `Showing ${shown} of ${rows.length} claims.`;
  };
  filters.forEach((select) => select.addEventListener("change", apply));
  form.addEventListener("submit", (event) => event.preventDefault());
  const box = table.closest(".pst-scrollable-table-container") || table;
  box.before(form, status);
  apply();
  // A link to one claim (#claim-c05) shows it, even when the filters had hidden it.
  window.addEventListener("hashchange", () => {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.hidden && rows.includes(target)) {
      filters.forEach((select) => (select.value = ""));
      apply();
      target.scrollIntoView();
    }
  });
});
