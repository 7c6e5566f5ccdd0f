// Local Partnerships front end: start GOV.UK Frontend components.
// Every page works without this file; it only makes things smoother.
import { initAll } from "/assets/vendor/govuk/govuk-frontend.min.js";

initAll();

// htmx swaps new content in: start GOV.UK components inside it too.
document.body.addEventListener("htmx:afterSwap", (event) => {
  initAll({ scope: event.detail.elt });
});

// Content swapped in away from the element that asked for it (the fresh reply form sent
// out of band, or a form with errors put back in place by HX-Retarget): start its
// components too, e.g. the character count and the error summary, which takes focus.
document.body.addEventListener("htmx:oobAfterSwap", (event) => {
  initAll({ scope: event.target });
});
document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.elt && !event.detail.elt.isConnected) {
    initAll({ scope: event.target });
  }
});
