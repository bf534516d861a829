// Arrow keys (and Page Up/Down, Home, End) move a slider without the pointerup that gradio's release event waits
// for, and the section's views follow a slider's release (demo/explore.py). So once a slider's keys rest for
// KEYS_REST_MS (demo/explore.py), the slider is released as a pointer would: one redraw of the views per pause, not
// one per key (a held key repeats many times a second and sends one keyup, at its end). The picture follows every
// key as it follows a drag. js_on_load of a hidden gr.HTML.
const MOVES = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"];
let resting = null;
document.addEventListener("keyup", (e) => {
  const slider = e.target;
  if (!(slider instanceof HTMLInputElement) || slider.type !== "range" || !MOVES.includes(e.key)) return;
  if (!/^z[0-9]+$/.test(slider.closest(".block")?.id || "")) return;
  clearTimeout(resting);
  resting = setTimeout(() => slider.dispatchEvent(new PointerEvent("pointerup", { bubbles: true })), __KEYS_REST_MS__);
});
