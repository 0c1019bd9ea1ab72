// Stands in for codemirror-json-schema's utils/markdown.js (markdown-it + shiki, ~1 MB):
// the form format's descriptions are plain sentences, shown as escaped text.
export function renderMarkdown(text) {
  const holder = document.createElement("div");
  holder.textContent = String(text || "");
  return holder.innerHTML;
}
