// Starts GOV.UK Frontend's components (skip link, error summary focus, service navigation
// menu, details, checkboxes' follow-up questions...). A static module, so the page needs no
// inline script and the Content-Security-Policy stays 'self' only.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// Radios' follow-up questions, shown only while their answer is picked.
import "/static/reveal.js";

// The session timeout warning (templates/_timeout_warning.html): does nothing on a page
// without its dialog.
import "/static/timeout-warning.js";
