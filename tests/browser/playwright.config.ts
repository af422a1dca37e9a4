/**
 * The admin widgets in a real browser. tests/e2e/test_admin_widgets.py starts the stack, prepares the
 * orders and runs one test of order-workflow.spec.ts at a time, with the settings below in the environment.
 */
import { defineConfig } from "@playwright/test"

// Playwright cannot download its own browser builds on these machines: it drives Debian's Chromium.
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium"

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  outputDir: process.env.PLAYWRIGHT_OUTPUT_DIR || "test-results",
  workers: 1,
  retries: 0,
  // Generous: the machine running the tests may be busy with other work; every wait is on a condition.
  timeout: 180_000,
  expect: { timeout: 45_000 },
  reporter: [["list"]],
  use: {
    baseURL: process.env.MEDUSA_URL,
    headless: true,
    viewport: { width: 1440, height: 1000 },
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
})
