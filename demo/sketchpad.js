// The drawing pad of the Draw tab (js_on_load of a gr.HTML; `element`, `props` come from gradio).
// A plain canvas driven by pointer events, so a mouse, a finger and a pen all draw, from the moment the page opens.
// Its value, set after every stroke, undo, redo and clear, is the drawing as strokes:
//   {seq, size: [width, height], brush, strokes: "x,y x,y ...;x,y ..."}
// the strokes as one text (whole pixels of the canvas, ";" between strokes): one value for the server to parse,
// not thousands (demo/draw_tab.py).
// `seq` counts the changes; the answer names the seq it is about, and the reading hides any answer about an older
// drawing than the one on the pad (the "cvae-drawing" event below tells it which one that is).
const canvas = element.querySelector("canvas");
const pen = canvas.getContext("2d");
const BRUSH = 22;   // px of the canvas's 560: about MNIST's stroke for a digit drawn across most of the pad
// A point is kept when the pointer has gone this far from the last one (px of the canvas): the ink looks the same
// under a 22 px brush, and a digit drawn slowly is a few hundred points, far below the server's limit.
const MIN_STEP = 3;
let strokes = [], undone = [], current = null, pointer = null, seq = 0;

// Paper and ink: black on white, or in the dark theme white on near-black (as model 2 sees a digit), so that the
// pad is no white sheet glaring on a dark page. Only the look: the strokes sent are the same.
const DARK = document.body.classList.contains("dark");
const PAPER = DARK ? "#111827" : "#fff", INK = DARK ? "#f9fafb" : "#000";

function paint() {
  pen.fillStyle = PAPER;
  pen.fillRect(0, 0, canvas.width, canvas.height);
  for (const s of current ? [...strokes, current] : strokes) {
    pen.beginPath();
    pen.moveTo(s[0][0], s[0][1]);
    for (const [x, y] of s.length > 1 ? s.slice(1) : s) pen.lineTo(x, y);
    pen.stroke();
  }
}

function setup() {
  pen.strokeStyle = INK;
  pen.lineWidth = BRUSH;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  paint();
}

// The drawing changed: tell the page which drawing an answer must be about, then send it.
function changed() {
  seq += 1;
  canvas.dataset.seq = seq;  // for the page's tests: which drawing the pad holds
  document.dispatchEvent(new CustomEvent("cvae-drawing", { detail: String(seq) }));
  props.value = { seq, size: [canvas.width, canvas.height], brush: BRUSH,
                  strokes: strokes.map((s) => s.map((p) => p.join(",")).join(" ")).join(";") };
  const undoButton = element.querySelector(".pad-undo"), redoButton = element.querySelector(".pad-redo");
  const focused = document.activeElement;
  undoButton.disabled = strokes.length === 0;
  redoButton.disabled = undone.length === 0;
  // A button that has just become disabled loses the focus to the page: a keyboard visitor keeps their place on the
  // other one of the pair when it can be pressed, else on the pad.
  if (focused === undoButton && undoButton.disabled) (redoButton.disabled ? canvas : redoButton).focus();
  if (focused === redoButton && redoButton.disabled) (undoButton.disabled ? canvas : undoButton).focus();
}

// Where the pointer is, in the canvas's whole pixels; kept on the canvas (a captured pointer may leave it).
function point(e) {
  const box = canvas.getBoundingClientRect();
  const along = (v, side) => Math.min(side, Math.max(0, Math.round(v)));
  return [along((e.clientX - box.left) * canvas.width / box.width, canvas.width),
          along((e.clientY - box.top) * canvas.height / box.height, canvas.height)];
}

canvas.addEventListener("pointerdown", (e) => {
  if (pointer !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
  e.preventDefault();
  pointer = e.pointerId;
  canvas.setPointerCapture(e.pointerId);
  current = [point(e)];
  // A new stroke makes the answer on screen about an older drawing: say so now, not when the stroke ends.
  document.dispatchEvent(new CustomEvent("cvae-drawing", { detail: "drawing" }));
  paint();
});

canvas.addEventListener("pointermove", (e) => {
  if (e.pointerId !== pointer) return;
  for (const ev of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) {
    const p = point(ev), last = current[current.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) < MIN_STEP) continue;
    current.push(p);
    pen.beginPath();
    pen.moveTo(last[0], last[1]);
    pen.lineTo(p[0], p[1]);
    pen.stroke();
  }
});

function endStroke(e) {
  if (e.pointerId !== pointer) return;
  pointer = null;
  strokes.push(current);
  current = null;
  undone = [];
  changed();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

function undo() {
  if (!strokes.length) return;
  undone.push(strokes.pop());
  paint();
  changed();
}

function redo() {
  if (!undone.length) return;
  strokes.push(undone.pop());
  paint();
  changed();
}

function clear() {
  if (current) pointer = current = null;
  strokes = [];
  undone = [];
  paint();
  changed();
}

element.querySelector(".pad-undo").addEventListener("click", undo);
element.querySelector(".pad-redo").addEventListener("click", redo);
// The page's one Clear: the pad, and the upload box (an upload replaces the drawing; clearing clears either).
element.querySelector(".pad-clear").addEventListener("click", () => {
  clear();
  // gradio's own label of the upload box's clear button, in the page's language (gradio's i18n: en, ja)
  document.querySelector('#upload button[aria-label="Clear"], #upload button[aria-label="クリア"]')?.click();
});
canvas.addEventListener("keydown", (e) => {
  if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== "z" && e.key.toLowerCase() !== "y") return;
  e.preventDefault();
  (e.key.toLowerCase() === "y" || e.shiftKey ? redo : undo)();
});
// The app's own Clear button, and an upload (which replaces the drawing), clear the pad through here.
document.addEventListener("cvae-pad-clear", clear);
setup();
