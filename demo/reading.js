// The Draw tab's answer (js_on_load of a gr.HTML whose value the server renders, demo/draw_tab.py `reading_html`).
// Each answer names the drawing it is about (data-about: the pad's seq, or "upload"); the pad announces the drawing
// on screen with a "cvae-drawing" event. An answer about any other drawing is marked stale, and the stylesheet
// hides it, so the page never shows an answer about an older drawing than the one on the pad.
let expected = "0";

// The answer's digit is also shown under the pad, beside its buttons (.pad-answer): in view where the finger is,
// on a phone too, where the full answer sits below the pad. Its words: `say` (demo/texts.py for_script).
function check() {
  const answer = element.querySelector("[data-about]");
  const stale = answer !== null && answer.dataset.about !== expected;
  element.classList.toggle("stale", stale);
  const badge = document.querySelector("#sketch .pad-answer"), digit = element.querySelector("#answer");
  if (!badge) return;
  if (stale) badge.textContent = say("reading_wait");
  else if (digit) badge.innerHTML = `${say("badge_model2")} <b id="pad-answer-digit">${digit.textContent}</b>` +
    (element.querySelector("#guess") ? say("badge_guess") : "");
  else badge.textContent = "";
}

document.addEventListener("cvae-drawing", (e) => {
  expected = e.detail;
  check();
});
watch("value", check);
check();
