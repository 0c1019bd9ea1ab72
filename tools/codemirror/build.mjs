// Bundle form-editor.mjs into the one vendored file the form editor loads, with the licence
// texts of every package inside it beside it:
//   npm ci && npm run build
import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const OUT = "../../platform/tongban/static/vendor/codemirror-form";

// codemirror-json-schema renders schema descriptions as markdown with shiki (~1 MB); the
// form format's descriptions are plain text, so its markdown module is replaced.
const plainDescriptions = {
  name: "plain-descriptions",
  setup(b) {
    b.onResolve({ filter: /utils\/markdown$/ }, (args) =>
      args.importer.includes("codemirror-json-schema")
        ? { path: fileURLToPath(new URL("plain-descriptions.mjs", import.meta.url)) }
        : undefined);
  },
};

const result = await build({
  entryPoints: ["form-editor.mjs"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  metafile: true,
  plugins: [plainDescriptions],
  outfile: `${OUT}.js`,
});

const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (match) packages.add(match[1]);
}
const notices = [...packages].sort().map((name) => {
  const folder = `node_modules/${name}`;
  const meta = JSON.parse(readFileSync(`${folder}/package.json`, "utf8"));
  const file = readdirSync(folder).find((f) => /^(licen[cs]e|copying)/i.test(f));
  const text = file ? readFileSync(`${folder}/${file}`, "utf8").trim() : `(${meta.license})`;
  return `== ${name} ${meta.version} (${meta.license || "see below"}) ==\n\n${text}\n`;
});
writeFileSync(`${OUT}.licences.txt`,
  "Packages bundled in codemirror-form.js (built by tools/codemirror) and their licences.\n\n" +
  notices.join("\n"));
