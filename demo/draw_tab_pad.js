// The pad's tooltips and its name for screen readers, in the page's language (set as the pad is shown), before
// demo/sketchpad.js in the pad's js_on_load; `say` comes from demo/texts.py for_script.
element.querySelector("canvas").setAttribute("aria-label", say("pad_label"));
for (const [part, key] of [["undo", "pad_undo_title"], ["redo", "pad_redo_title"], ["clear", "pad_clear_title"],
                           ["answer", "pad_answer_title"]])
  element.querySelector(".pad-" + part)?.setAttribute("title", say(key));
