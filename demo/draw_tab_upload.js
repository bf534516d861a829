// An upload replaces the drawing (an event's js, before the upload is sent): the pad is cleared, and the answer to
// show is the upload's (demo/sketchpad.js, demo/reading.js).
(...inputs) => {
  document.dispatchEvent(new Event('cvae-pad-clear'));
  document.dispatchEvent(new CustomEvent('cvae-drawing', {detail: 'upload'}));
  return inputs;
}
