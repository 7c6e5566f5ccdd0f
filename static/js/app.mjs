// Local Partnerships front end: start GOV.UK Frontend components.
// Every page works without this file; it only makes things smoother.
import { initAll } from "/assets/vendor/govuk/govuk-frontend.min.js";

// Every button ignores a second click within a second (GOV.UK's double-click
// prevention), so a double tap on a phone never sends a form twice.
const config = { button: { preventDoubleClick: true } };

initAll(config);

// htmx swaps new content in: start GOV.UK components inside it too.
document.body.addEventListener("htmx:afterSwap", (event) => {
  initAll({ ...config, scope: event.detail.elt });
});

// Content swapped in away from the element that asked for it (the fresh reply form sent
// out of band, or a form with errors put back in place by HX-Retarget): start its
// components too, e.g. the character count and the error summary, which takes focus.
document.body.addEventListener("htmx:oobAfterSwap", (event) => {
  initAll({ ...config, scope: event.target });
});
document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.elt && !event.detail.elt.isConnected) {
    initAll({ ...config, scope: event.target });
  }
});

// Copy buttons (calendar addresses): the read-only field works without JavaScript (select
// and copy); where the clipboard can be written, show the button and say when it worked.
function initCopyButtons(scope) {
  for (const field of scope.querySelectorAll("input[data-copy-field]:not([data-copy-ready])")) {
    field.dataset.copyReady = "true";
    field.addEventListener("focus", () => field.select());
  }
  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  for (const button of scope.querySelectorAll("button[data-copy-target]:not([data-copy-ready])")) {
    button.dataset.copyReady = "true";
    const field = document.getElementById(button.dataset.copyTarget);
    const status = document.querySelector(`[data-copy-status="${button.dataset.copyTarget}"]`);
    if (!field) {
      continue;
    }
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(field.value);
        if (status) status.textContent = "Address copied.";
      } catch {
        field.focus();
        if (status) status.textContent = "Could not copy: the address is selected, copy it yourself.";
      }
    });
  }
}

initCopyButtons(document);
document.body.addEventListener("htmx:afterSwap", (event) => {
  initCopyButtons(event.detail.elt);
});

// Fields that apply only for some answers to a choice (macros/forms.html `shown_when`):
// hidden until one of those answers is chosen, as GOV.UK's conditional reveal does for
// a single answer; the radios that reveal them say so with aria-controls. Without
// JavaScript they all show, and the server ignores those that do not apply.
function initShownWhen(scope) {
  for (const region of scope.querySelectorAll("[data-shown-when]:not([data-shown-ready])")) {
    region.dataset.shownReady = "true";
    const form = region.closest("form") || document;
    const inputs = [...form.querySelectorAll("input")].filter(
      (input) => input.name === region.dataset.shownWhen);
    const values = region.dataset.shownFor.split(" ");
    for (const input of inputs) {
      if (values.includes(input.value)) {
        const controls = (input.getAttribute("aria-controls") || "").split(" ").filter(Boolean);
        input.setAttribute("aria-controls", [...controls, region.id].join(" "));
      }
    }
    const update = () => {
      region.hidden = !inputs.some((input) => input.checked && values.includes(input.value));
    };
    for (const input of inputs) {
      input.addEventListener("change", update);
    }
    update();
  }
}

initShownWhen(document);
document.body.addEventListener("htmx:afterSwap", (event) => {
  initShownWhen(event.detail.elt);
});
