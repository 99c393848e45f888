// The layout of every page: on a narrow screen the main navigation folds behind its Menu
// button, and each data table's cells carry their column's name (data-label), which
// breachdesk.css shows when it stacks a table's rows on a phone.
"use strict";

(() => {
  const NARROW = window.matchMedia("(max-width: 63.99rem)");

  // --- the navigation's menu button ------------------------------------------------------

  function foldNavigation() {
    const header = document.querySelector("header.top");
    const toggle = header && header.querySelector(".menu-toggle[aria-controls]");
    const menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!toggle || !menu) {
      return;
    }
    const show = (open) => {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    };
    toggle.hidden = false;
    header.classList.add("menu-ready");
    toggle.addEventListener("click", () => show(toggle.getAttribute("aria-expanded") !== "true"));
    // Escape closes the open menu from anywhere in it and gives the focus back to the button.
    header.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true"
          && NARROW.matches) {
        show(false);
        toggle.focus();
      }
    });
    // Back on a wide screen the navigation is always shown; start folded on the next narrow one.
    NARROW.addEventListener("change", () => show(false));
  }

  // --- column names on the cells of data tables ---------------------------------------------

  /** The column headers of `table`'s header row, one entry per column (colspans repeated). */
  function columnNames(table) {
    const row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!row) {
      return null;
    }
    const names = [];
    for (const cell of row.cells) {
      const name = cell.textContent.replace(/\s+/g, " ").trim();
      for (let n = 0; n < cell.colSpan; n += 1) {
        names.push(name);
      }
    }
    return names;
  }

  /** Give every body and foot cell that spans one column the name of its column. A cell
   *  spanning several columns (a row's details) or in a table without a header row keeps
   *  none. Tables that label their own cells (data-labelled) are left as they are. */
  function labelCells(table) {
    if (table.hasAttribute("data-labelled")) {
      return;
    }
    const names = columnNames(table);
    if (!names) {
      return;
    }
    for (const section of [...table.tBodies, table.tFoot].filter(Boolean)) {
      for (const row of section.rows) {
        let column = 0;
        for (const cell of row.cells) {
          const name = names[column];
          if (cell.colSpan === 1 && name && !cell.hasAttribute("data-label")) {
            cell.dataset.label = name;
          }
          column += cell.colSpan;
        }
      }
    }
    table.setAttribute("data-labelled", "");
  }

  function labelTables(root) {
    for (const table of root.querySelectorAll("main table")) {
      labelCells(table);
    }
  }

  foldNavigation();
  labelTables(document);
  // Sections drawn later by a page's own script label their tables through this.
  window.breachdeskLayout = { labelTables };
})();
