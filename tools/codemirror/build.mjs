// Bundle each text view into the one vendored file its editor pages load, with the licence
// texts of every package inside it beside it:
//   npm ci && npm run build
//   form-editor.mjs -> static/vendor/codemirror-form.js  (the form editor: JSON)
//   yaml-editor.mjs -> static/vendor/codemirror-yaml.js  (the flow and rules editors: YAML)
import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const VENDOR = "../../platform/tongban/static/vendor";
const BUNDLES = { "form-editor.mjs": "codemirror-form", "yaml-editor.mjs": "codemirror-yaml" };

// codemirror-json-schema renders schema descriptions as markdown with shiki (~1 MB); the
// formats' descriptions are plain text, so its markdown module is replaced.
const plainDescriptions = {
  name: "plain-descriptions",
  setup(b) {
    b.onResolve({ filter: /utils\/markdown$/ }, (args) =>
      args.importer.includes("codemirror-json-schema")
        ? { path: fileURLToPath(new URL("plain-descriptions.mjs", import.meta.url)) }
        : undefined);
  },
};

function licences(metafile, name) {
  const packages = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = input.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
    if (match) packages.add(match[1]);
  }
  const notices = [...packages].sort().map((found) => {
    const folder = `node_modules/${found}`;
    const meta = JSON.parse(readFileSync(`${folder}/package.json`, "utf8"));
    const file = readdirSync(folder).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = file ? readFileSync(`${folder}/${file}`, "utf8").trim() : `(${meta.license})`;
    return `== ${found} ${meta.version} (${meta.license || "see below"}) ==\n\n${text}\n`;
  });
  return `Packages bundled in ${name}.js (built by tools/codemirror) and their licences.\n\n` +
    notices.join("\n");
}

for (const [entry, name] of Object.entries(BUNDLES)) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    legalComments: "none",
    metafile: true,
    plugins: [plainDescriptions],
    outfile: `${VENDOR}/${name}.js`,
  });
  writeFileSync(`${VENDOR}/${name}.licences.txt`, licences(result.metafile, name));
}
