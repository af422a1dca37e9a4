import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { reconcileSettingsFromEnv } from "../src/jobs/resend-unstarted-orders"

/** The order webhook's default ORDER_MESSAGE_TTL_SECONDS (fulfillment/engine.py), in milliseconds. */
const DEFAULT_MESSAGE_TTL_MS = 3_600_000

describe("reconcileSettingsFromEnv", () => {
  it("resends only orders whose first message Zeebe still buffers, so a resend never starts a second process", () => {
    const settings = reconcileSettingsFromEnv({})
    assert.ok(settings.lookbackMs < DEFAULT_MESSAGE_TTL_MS, `lookback ${settings.lookbackMs} ms`)
    assert.ok(settings.minAgeMs < settings.lookbackMs)
  })

  it("reads the settings from the environment and keeps the defaults for invalid values", () => {
    const settings = reconcileSettingsFromEnv({
      ORDER_WEBHOOK_RECONCILE_INTERVAL_MS: "0",
      ORDER_WEBHOOK_RECONCILE_MIN_AGE_MS: "5000",
      ORDER_WEBHOOK_RECONCILE_LOOKBACK_MS: "soon",
    })
    assert.deepEqual(settings, {
      intervalMs: 0,
      minAgeMs: 5_000,
      lookbackMs: reconcileSettingsFromEnv({}).lookbackMs,
    })
  })
})
