// The Draw tab's answer (js_on_load of a gr.HTML whose value the server renders, demo/draw_tab.py `reading_html`).
// Each answer names the drawing it is about (data-about: the pad's seq, or "upload"); the pad announces the drawing
// on screen with a "cvae-drawing" event. An answer about any other drawing is marked stale, and the stylesheet
// hides it, so the page never shows an answer about an older drawing than the one on the pad.
let expected = "0";

function check() {
  const answer = element.querySelector("[data-about]");
  element.classList.toggle("stale", answer !== null && answer.dataset.about !== expected);
}

document.addEventListener("cvae-drawing", (e) => {
  expected = e.detail;
  check();
});
watch("value", check);
check();
