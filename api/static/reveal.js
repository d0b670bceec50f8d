// Follow-up questions under radios (govuk/components.html, `data-mf-reveal`): each shown
// only while its radio is picked. GOV.UK Frontend's Radios would do this and also put
// aria-expanded on the radio, which ARIA 1.2 does not allow on a radio; here the
// follow-up simply comes next after its radio, and nothing is announced that the role
// does not support. Without this script every follow-up stays visible.
const HIDDEN = "govuk-radios__conditional--hidden";

for (const group of document.querySelectorAll(".govuk-radios")) {
  const revealing = [...group.querySelectorAll('input[type="radio"][data-mf-reveal]')];
  if (revealing.length === 0) continue;
  const sync = () => {
    for (const radio of revealing) {
      const panel = document.getElementById(radio.dataset.mfReveal);
      if (panel) panel.classList.toggle(HIDDEN, !radio.checked);
    }
  };
  sync();
  group.addEventListener("change", sync);
  window.addEventListener("pageshow", sync); // back/forward cache keeps the checked radio
}

// Follow-up questions after a select (form_macros.html's follow_up: `data-mf-shown-by`
// names the selects, `data-mf-shown-for` the answers): shown while any of those selects
// holds one of those answers. A select cannot carry GOV.UK's conditional reveal.
const FOLLOW_UP_HIDDEN = "mf-follow-up--hidden";

for (const panel of document.querySelectorAll("[data-mf-shown-by]")) {
  const controls = panel.dataset.mfShownBy
    .split(" ")
    .map((id) => document.getElementById(id))
    .filter((control) => control !== null);
  const answers = panel.dataset.mfShownFor.split(" ");
  const sync = () => {
    const needed = controls.some((control) => answers.includes(control.value));
    panel.classList.toggle(FOLLOW_UP_HIDDEN, !needed);
  };
  for (const control of controls) control.addEventListener("change", sync);
  sync();
  window.addEventListener("pageshow", sync);
}
