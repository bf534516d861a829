// The page's language switch (js_on_load of a gr.HTML; `element` comes from gradio), demo/texts.py.
// The language is `?lang=` in the page's address: the page starts in it (demo/page_language.py), the server reads it
// from every event's request (its Referer), and a link with it opens the page in that language. Choosing a language
// reloads the page with it, keeping the rest of the address (a picture's ?digit=...&z=...), so that every text, the
// server's too, is in the chosen language. Without `?lang=` the page follows the browser's language.
const nav = element.querySelector("nav");
const shown = (document.documentElement.lang || navigator.language || "en").split("-")[0] === "ja" ? "ja" : "en";

function address(lang) {
  const url = new URL(window.location.href);
  url.searchParams.set("lang", lang);
  return url.toString();
}

for (const link of nav.querySelectorAll("a[data-lang]")) {
  link.href = address(link.dataset.lang);
  if (link.dataset.lang === shown) link.setAttribute("aria-current", "true");
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.location.assign(address(link.dataset.lang));
  });
}
// gradio sets the tab's title from the Blocks' (English) title; the page's language decides.
document.title = shown === "ja" ? nav.dataset.titleJa : nav.dataset.titleEn;
