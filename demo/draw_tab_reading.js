// The word shown over a stale answer (demo/draw_tab_reading.css), in the page's language, before demo/reading.js
// in the answer's js_on_load; `say` comes from demo/texts.py for_script. A CSS string, as `content` takes it.
element.style.setProperty("--reading-wait", JSON.stringify(say("reading_wait")));
