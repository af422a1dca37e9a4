import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { stillInsideLookback } from "../src/jobs/reconcile-order-events"
import { DEFAULT_MESSAGE_TTL_MS, resolveOptions } from "../src/lib/options"

describe("reconciliation", () => {
  it("resends only orders whose first message Zeebe still buffers, so a resend never starts a second process", () => {
    const { lookbackMs, minAgeMs } = resolveOptions({}).reconciliation
    assert.ok(lookbackMs < DEFAULT_MESSAGE_TTL_MS, `lookback ${lookbackMs} ms`)
    assert.ok(minAgeMs < lookbackMs)
  })

  it("skips an order that aged past the lookback while the run was busy", () => {
    const now = Date.now()
    const lookbackMs = 60_000
    assert.equal(stillInsideLookback({ created_at: new Date(now - 30_000) }, lookbackMs, now), true)
    assert.equal(stillInsideLookback({ created_at: new Date(now - 61_000).toISOString() }, lookbackMs, now), false)
  })
})
