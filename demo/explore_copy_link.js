// The link to the current picture (the Generate tab's "Copy link", demo/explore.py), written into the textbox and
// copied to the clipboard: navigator.clipboard needs a secure context (http://127.0.0.1 is one); elsewhere the
// selected textbox is copied. An event's js: gradio calls it with the digit and the sliders' values.
(digit, ...z) => {
    const link = location.origin + location.pathname + '?digit=' + digit + '&z=' +
        z.map(v => Number(Number(v).toFixed(2))).join(',');
    const fallback = () => {
        const box = document.querySelector('#share-link textarea, #share-link input');
        if (box) { box.value = link; box.select(); try { document.execCommand('copy'); } catch (e) {} }
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(link).catch(fallback);
    else setTimeout(fallback, 0);
    return link;
}
