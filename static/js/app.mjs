// Local Partnerships front end: start GOV.UK Frontend components.
// Every page works without this file; it only makes things smoother.
import { initAll } from "/assets/vendor/govuk/govuk-frontend.min.js";

initAll();

// htmx swaps new content in: start GOV.UK components inside it too.
document.body.addEventListener("htmx:afterSwap", (event) => {
  initAll({ scope: event.detail.elt });
});
