#!/usr/bin/env node
// Lints BPMN files for Camunda 8 with bpmnlint.
//
// The bpmnlint CLI parses BPMN without the Zeebe moddle extension, so the camunda-compat rules then
// miss every zeebe:* element and report false errors. This script parses with bpmn-moddle plus
// zeebe-bpmn-moddle and runs the linter through its API.
//
// Usage (from the repository root): node tools/bpmn/lint.mjs bpmn/order-fulfillment.bpmn [more.bpmn]
// Exit status: 0 clean (warnings allowed), 1 lint or import errors, 2 usage or setup problems.
// The npm packages come from tools/node (run `make setup` or `npm ci` there first).

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

// The target engine version; keep in step with modeler:executionPlatformVersion in the BPMN files.
export const LINT_CONFIG = {
  extends: ["bpmnlint:recommended", "plugin:camunda-compat/camunda-cloud-8-8"],
};

const toolsRequire = createRequire(new URL("../node/package.json", import.meta.url));

async function importFromTools(specifier) {
  return import(pathToFileURL(toolsRequire.resolve(specifier)).href);
}

async function createModdle() {
  const { BpmnModdle } = await importFromTools("bpmn-moddle");
  const zeebe = toolsRequire("zeebe-bpmn-moddle/resources/zeebe.json");
  return new BpmnModdle({ zeebe });
}

function createLinter() {
  const { Linter } = toolsRequire("bpmnlint");
  const NodeResolver = toolsRequire("bpmnlint/lib/resolver/node-resolver.js");
  // Resolve rules and plugins from tools/node, not from the current directory.
  return new Linter({ config: LINT_CONFIG, resolver: new NodeResolver({ require: toolsRequire }) });
}

function printReports(file, results) {
  let errors = 0;
  let warnings = 0;
  for (const [rule, reports] of Object.entries(results)) {
    for (const report of reports) {
      const category = report.category === "rule-error" ? "error" : report.category;
      if (category === "error" || category === "rule-error") errors += 1;
      else if (category === "warn") warnings += 1;
      const where = report.path?.length ? `${report.id}#${report.path.join(".")}` : report.id;
      console.log(`${file}: ${category} ${where}: ${report.message} (${rule})`);
    }
  }
  return { errors, warnings };
}

async function lintFile(moddle, linter, file) {
  const xml = await readFile(file, "utf8");
  let parsed;
  try {
    parsed = await moddle.fromXML(xml, "bpmn:Definitions");
  } catch (error) {
    console.log(`${file}: error: cannot parse: ${error.message}`);
    return { errors: 1, warnings: 0 };
  }
  // Import warnings include dangling references (a flow named but never defined) that an engine
  // may silently accept: they count as errors.
  for (const warning of parsed.warnings) {
    console.log(`${file}: error import: ${warning.message}`);
  }
  const counts = printReports(file, await linter.lint(parsed.rootElement));
  counts.errors += parsed.warnings.length;
  return counts;
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tools/bpmn/lint.mjs FILE.bpmn [FILE.bpmn ...]");
    return 2;
  }
  let moddle;
  let linter;
  try {
    moddle = await createModdle();
    linter = createLinter();
  } catch (error) {
    console.error(`cannot load the BPMN tools from tools/node (run npm ci there): ${error.message}`);
    return 2;
  }
  let total = { errors: 0, warnings: 0 };
  for (const file of files) {
    const counts = await lintFile(moddle, linter, file);
    total = { errors: total.errors + counts.errors, warnings: total.warnings + counts.warnings };
  }
  console.log(`${files.length} file(s): ${total.errors} error(s), ${total.warnings} warning(s)`);
  return total.errors > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
