// Renders compiler output with ANSI SGR colour codes as DOM nodes (never as raw escapes, never
// as HTML: text always goes through textContent).

const COLOURS = new Set([30, 31, 32, 33, 34, 35, 36, 37, 90, 91, 92, 93, 94, 95, 96, 97]);

/** Appends `text` to `parent`, turning `ESC[...m` sequences into styled spans. */
export function renderAnsi(parent, text) {
  const pattern = /\x1b\[([0-9;]*)m/g;
  let bold = false;
  let colour = null;
  let last = 0;
  const emit = (chunk) => {
    if (!chunk) return;
    if (!bold && colour === null) {
      parent.append(document.createTextNode(chunk));
      return;
    }
    const span = document.createElement("span");
    if (bold) span.classList.add("ansi-bold");
    if (colour !== null) span.classList.add(`ansi-${colour}`);
    span.textContent = chunk;
    parent.append(span);
  };
  for (const match of text.matchAll(pattern)) {
    emit(text.slice(last, match.index));
    last = match.index + match[0].length;
    const codes = match[1] === "" ? [0] : match[1].split(";").map(Number);
    for (const code of codes) {
      if (code === 0) { bold = false; colour = null; }
      else if (code === 1) bold = true;
      else if (code === 22) bold = false;
      else if (code === 39) colour = null;
      else if (COLOURS.has(code)) colour = code;
    }
  }
  emit(text.slice(last));
  // Any other escape sequence (cursor moves, OSC links) is dropped rather than shown.
  for (const node of parent.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) node.textContent = node.textContent.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  }
}
