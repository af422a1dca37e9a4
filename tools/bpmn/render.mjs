#!/usr/bin/env node
// Renders a BPMN file to a PNG with bpmn-js in headless Chromium (Debian's `chromium` package).
//
// Usage (from the repository root):
//   node tools/bpmn/render.mjs [bpmn/order-fulfillment.bpmn] [docs/order-fulfillment.png]
// Needs tools/node/node_modules (npm ci there) and /usr/bin/chromium (`apt-get install -y chromium`),
// or a browser named by the CHROMIUM environment variable.
// The page is written to a temporary directory and loads bpmn-js from tools/node by file URL; the
// browser runs with networking features off, so rendering works offline.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

// Screenshot = the diagram's extent plus a margin, at scale 1 in CSS pixels; the device scale factor
// makes the PNG sharp.
const MARGIN = 30;
const SCALE = 2;
// Room for the bpmn.io watermark (its license asks that it stays visible) below the diagram.
const WATERMARK_HEIGHT = 30;
const toolsRequire = createRequire(new URL("../node/package.json", import.meta.url));

function assetUrl(relative) {
  return pathToFileURL(toolsRequire.resolve(`bpmn-js/package.json`).replace(/package\.json$/, relative)).href;
}

function pageFor(xml, viewbox) {
  // The XML is embedded as a JSON string: no fetch of a local file, which browsers restrict.
  return `<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="${assetUrl("dist/assets/diagram-js.css")}">
<link rel="stylesheet" href="${assetUrl("dist/assets/bpmn-js.css")}">
<style>
  html, body { margin: 0; background: #fff; overflow: hidden; }
  /* A fixed size, not 100%: headless Chromium's inner height is smaller than --window-size. */
  #canvas { width: ${viewbox.width}px; height: ${viewbox.height}px; }
</style>
<script src="${assetUrl("dist/bpmn-viewer.production.min.js")}"></script>
</head><body><div id="canvas"></div>
<script>
  const viewer = new BpmnJS({ container: "#canvas" });
  viewer.importXML(${JSON.stringify(xml)})
    .then(({ warnings }) => {
      const canvas = viewer.get("canvas");
      // The window has exactly the size of this view box: scale 1, nothing cut off.
      canvas.viewbox(${JSON.stringify(viewbox)});
      document.title = warnings.length ? "rendered with warnings" : "rendered";
    })
    .catch((error) => { document.body.textContent = "BPMN import failed: " + error.message; });
</script></body></html>`;
}

function diagramSize(xml) {
  const box = { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
  for (const [tag] of xml.matchAll(/<(?:dc:Bounds|di:waypoint)\b[^>]*>/g)) {
    const number = (name) => Number(tag.match(new RegExp(`\\b${name}="([-0-9.]+)"`))?.[1] ?? 0);
    box.left = Math.min(box.left, number("x"));
    box.top = Math.min(box.top, number("y"));
    box.right = Math.max(box.right, number("x") + number("width"));
    box.bottom = Math.max(box.bottom, number("y") + number("height"));
  }
  return {
    x: Math.floor(box.left) - MARGIN,
    y: Math.floor(box.top) - MARGIN,
    width: Math.ceil(box.right - box.left) + 2 * MARGIN,
    height: Math.ceil(box.bottom - box.top) + 2 * MARGIN + WATERMARK_HEIGHT,
  };
}

function findChromium() {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((candidate) => candidate && existsSync(candidate));
}

function render(bpmnPath, pngPath) {
  const chromium = findChromium();
  if (!chromium) {
    console.error("no Chromium found: apt-get update && apt-get install -y chromium (or set CHROMIUM)");
    return 2;
  }
  const workDir = mkdtempSync(join(tmpdir(), "bpmn-render-"));
  try {
    const page = join(workDir, "render.html");
    const xml = readFileSync(bpmnPath, "utf8");
    const size = diagramSize(xml);
    writeFileSync(page, pageFor(xml, size));
    const result = spawnSync(
      chromium,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        `--user-data-dir=${join(workDir, "profile")}`,
        "--allow-file-access-from-files",
        "--virtual-time-budget=5000",
        `--window-size=${size.width},${size.height}`,
        `--force-device-scale-factor=${SCALE}`,
        `--screenshot=${resolve(pngPath)}`,
        pathToFileURL(page).href,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (result.status !== 0 || !existsSync(pngPath) || statSync(pngPath).size === 0) {
      console.error(`chromium failed (status ${result.status}): ${result.stderr}`);
      return 1;
    }
    console.log(`rendered ${bpmnPath} -> ${pngPath}`);
    return 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

const [bpmnPath = "bpmn/order-fulfillment.bpmn", pngPath = "docs/order-fulfillment.png"] =
  process.argv.slice(2);
process.exitCode = render(bpmnPath, pngPath);
