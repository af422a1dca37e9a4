/**
 * The plugin's options as a shop registers them in medusa-config.ts, loaded into Medusa's config manager
 * before the plugin's workflows are imported: their steps read the retry settings when they are defined.
 * Import this first.
 */
import { configManager } from "@medusajs/framework/config"

import { PLUGIN_NAME, type PluginOptionsInput } from "../../src/lib/options"

const SECRET = "whsec_" + Buffer.from("a test secret of thirty-two byte").toString("base64")

/** Three attempts one second apart (the engine's shortest interval), each allowed five seconds. */
export const REGISTERED: PluginOptionsInput = {
  webhookUrl: "http://127.0.0.1:9/",
  webhookSecret: SECRET,
  retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 1_000, timeoutMs: 5_000 },
}

configManager.loadConfig({
  projectConfig: {
    projectConfig: { http: { jwtSecret: "test", cookieSecret: "test", authCors: "", storeCors: "", adminCors: "" } },
    plugins: [{ resolve: PLUGIN_NAME, options: REGISTERED }],
  },
  baseDir: process.cwd(),
  throwOnValidationError: false,
})
