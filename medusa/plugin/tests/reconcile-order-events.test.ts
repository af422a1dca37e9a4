import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { canceledOrderStep, reconciliationWindow, stillInsideLookback, workflowEnded } from "../src/jobs/reconcile-order-events"
import { DEFAULT_MESSAGE_TTL_MS, resolveOptions } from "../src/lib/options"

describe("reconciliation", () => {
  it("resends only orders whose first message Zeebe still buffers, so a resend never starts a second process", () => {
    const { lookbackMs, minAgeMs } = resolveOptions({}).reconciliation
    assert.ok(lookbackMs < DEFAULT_MESSAGE_TTL_MS, `lookback ${lookbackMs} ms`)
    assert.ok(minAgeMs < lookbackMs)
  })

  it("looks at orders older than the subscriber's retries and younger than the lookback", () => {
    const now = Date.parse("2026-01-01T12:00:00Z")
    const window = reconciliationWindow({ lookbackMs: 3_000_000, minAgeMs: 600_000 }, now)
    assert.deepEqual(window, { from: new Date("2026-01-01T11:10:00Z"), to: new Date("2026-01-01T11:50:00Z") })
  })

  it("skips an order that aged past the lookback while the run was busy", () => {
    const now = Date.now()
    const lookbackMs = 60_000
    assert.equal(stillInsideLookback(new Date(now - 30_000), lookbackMs, now), true)
    assert.equal(stillInsideLookback(new Date(now - 61_000).toISOString(), lookbackMs, now), false)
  })

  it("sends a cancel again while the canceled order's workflow has not ended", () => {
    for (const status of [null, "awaiting_payment", "payment_verified", "inventory_reserved", "new_status"]) {
      assert.equal(workflowEnded(status), false, String(status))
    }
    for (const status of ["completed", "canceled", "payment_failed", "out_of_stock", "cancel_refused"]) {
      assert.equal(workflowEnded(status), true, status)
    }
  })

  it("leaves a canceled order alone once its workflow ended, whoever ended it", () => {
    for (const status of ["completed", "canceled", "payment_failed", "out_of_stock", "cancel_refused"]) {
      assert.equal(canceledOrderStep(status), "leave_alone", status)
    }
  })

  it("sends the cancel again to a process that reported and has not ended", () => {
    for (const status of ["awaiting_payment", "payment_verified", "inventory_reserved", "new_status"]) {
      assert.equal(canceledOrderStep(status), "resend_cancel", status)
    }
  })

  it("delivers the cancel of an order no process reported on once, then records it (nothing resends it)", () => {
    assert.equal(canceledOrderStep(null), "cancel_unstarted")
    // What it records is a status the cloud side knows, and a status that ends the job's interest.
    assert.equal(canceledOrderStep("canceled"), "leave_alone")
  })
})
