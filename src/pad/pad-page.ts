/**
 * The drawing pad as HTML: a piece for the report, and the page of `cnn-eval --draw` with only the
 * pad. The page's code is the project's own (dist/pad.js, bundled from src/pad/pad-entry.ts at
 * build time) inlined with the model's parameters: one self-contained file, nothing fetched when
 * it is opened, from a web server or from file://.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../engine/wasm-module.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { ModelFile } from '../io/model-file.js';
import { describeArchitecture } from '../model/architecture.js';
import { embed, escapeHtml, inlineScript, pageHead } from '../report/html.js';
import type { PadModel } from './classify-drawing.js';

let bundle: string | undefined;

/** The page bundle (an IIFE defining `CnnPad`), built by `npm run build:pad`. */
export function padBundle(): string {
  if (bundle === undefined) {
    const path = join(packageRoot(), 'dist', 'pad.js');
    if (!existsSync(path)) throw new Error(`${path} is missing (run npm run build)`);
    bundle = readFileSync(path, 'utf8');
  }
  return bundle;
}

export function padModel(model: ModelFile, source: string): PadModel {
  return { architecture: model.architecture, parameters: Array.from(model.parameters), source };
}

/** The pad as a piece of a page: its element, then the scripts that mount it there. */
export function padHtml(pm: PadModel, id = 'cnn-pad'): string {
  return `<div id="${id}"></div>
<script>${inlineScript(padBundle())}</script>
<script type="application/json" id="${id}-model">${embed(pm)}</script>
<script>CnnPad.mountPad(document.getElementById(${JSON.stringify(id)}), JSON.parse(document.getElementById(${JSON.stringify(`${id}-model`)}).textContent));</script>`;
}

/** A page with only the pad. */
export function renderPadPage(pm: PadModel): string {
  const title = `cnn-train drawing pad: ${pm.source}`;
  return `${pageHead(title, 'pad')}
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; padding: 0 16px; }
  h1 { font-size: 20px; margin-bottom: 4px; } .muted { color: #666; }
</style>
</head>
<body>
<h1>Draw a digit</h1>
<p class="muted">${escapeHtml(describeArchitecture(pm.architecture))}. Your drawing is prepared as MNIST was made (grey, cropped to the ink, fitted into 20x20, centre of mass at the centre of 28x28), exactly as <code>cnn-eval --image</code> prepares a picture, and the network's forward pass runs here in the page.</p>
${padHtml(pm)}
<script>document.body.dataset.ready = 'true';</script>
</body>
</html>
`;
}

export function writePadPage(path: string, model: ModelFile, source: string): void {
  writeFileAtomic(path, renderPadPage(padModel(model, source)));
}
