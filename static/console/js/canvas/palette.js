// The component palette: the catalogue grouped by category, filtered by #palette-search.
// Items are dragged onto the canvas (native drag and drop carrying the component key) or, for
// keyboard users, added at the centre of the view with Enter.

import { COMPONENT_MIME } from "./interaction.js";

const CATEGORY_LABELS = {
  io: "Data sources",
  data_prep: "Data preparation",
  data_filter: "Filters",
  preprocessing: "Preprocessing",
  stats: "Statistics",
  ml: "Machine learning",
  evaluation: "Evaluation",
};
const CATEGORY_ORDER = Object.keys(CATEGORY_LABELS);

function grouped(components) {
  const groups = new Map();
  for (const component of components) {
    if (!groups.has(component.category)) groups.set(component.category, []);
    groups.get(component.category).push(component);
  }
  const rank = (category) => {
    const index = CATEGORY_ORDER.indexOf(category);
    return index === -1 ? CATEGORY_ORDER.length : index;
  };
  return [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
}

function item(component, readonly, onAdd) {
  const entry = document.createElement("li");
  const card = document.createElement("div");
  card.className = `palette-item category-${component.category}`;
  card.dataset.component = component.key;
  entry.dataset.search = `${component.label} ${component.key} ${component.description}`.toLowerCase();
  card.title = component.description;
  const name = Object.assign(document.createElement("span"), { className: "palette-item-label", textContent: component.label });
  const key = Object.assign(document.createElement("span"), { className: "palette-item-key", textContent: component.key });
  card.append(name, key);
  entry.append(card);
  if (readonly) return entry;
  card.draggable = true;
  card.tabIndex = 0;
  // The visible text names the button; how to use it is the shared hint (#palette-hint).
  card.setAttribute("role", "button");
  card.setAttribute("aria-describedby", "palette-hint");
  card.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData(COMPONENT_MIME, component.key);
    event.dataTransfer.setData("text/plain", component.key);
    event.dataTransfer.effectAllowed = "copy";
  });
  card.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    onAdd(component.key);
  });
  return entry;
}

function filter(list, empty, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const group of list.querySelectorAll(".palette-group")) {
    let visible = 0;
    for (const entry of group.querySelectorAll(".palette-items > li")) {
      const match = words.every((word) => entry.dataset.search.includes(word));
      entry.hidden = !match;
      visible += match ? 1 : 0;
    }
    group.hidden = visible === 0;
    shown += visible;
  }
  empty.hidden = shown > 0;
}

/** Fill `root` (#palette) with the searchable catalogue; `onAdd(key)` adds without dragging. */
export function renderPalette(root, components, { readonly, onAdd }) {
  const heading = Object.assign(document.createElement("h2"), { className: "palette-title", textContent: "Components" });
  const search = Object.assign(document.createElement("input"), {
    type: "search",
    id: "palette-search",
    placeholder: "Search components",
    autocomplete: "off",
  });
  search.setAttribute("aria-label", "Search components");
  const list = Object.assign(document.createElement("div"), { className: "palette-groups" });
  for (const [category, members] of grouped(components)) {
    const group = Object.assign(document.createElement("section"), { className: "palette-group" });
    const title = Object.assign(document.createElement("h3"), { textContent: CATEGORY_LABELS[category] || category });
    const items = Object.assign(document.createElement("ul"), { className: "palette-items" });
    items.append(...members.sort((a, b) => a.label.localeCompare(b.label)).map((component) => item(component, readonly, onAdd)));
    group.append(title, items);
    list.append(group);
  }
  const empty = Object.assign(document.createElement("p"), { className: "palette-empty", textContent: "No component matches." });
  empty.hidden = true;
  const hint = Object.assign(document.createElement("p"), {
    className: "palette-hint",
    id: "palette-hint",
    textContent: readonly ? "Read-only: the pipeline cannot be edited here." : "Drag a component onto the canvas, or focus it and press Enter to add it in the middle.",
  });
  search.addEventListener("input", () => filter(list, empty, search.value));
  root.replaceChildren(heading, search, hint, list, empty);
}
