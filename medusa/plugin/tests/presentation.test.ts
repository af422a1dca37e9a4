import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { relativeTime, STATE_COLORS, statusLabel } from "../src/admin/lib/presentation"

describe("statusLabel", () => {
  it("reads a status as words, and no status as not started", () => {
    assert.equal(statusLabel("payment_failed"), "Payment failed")
    assert.equal(statusLabel("completed"), "Completed")
    assert.equal(statusLabel(null), "Not started")
  })
})

describe("relativeTime", () => {
  const now = Date.parse("2026-11-29T12:00:00Z")

  it("names the largest unit that fits", () => {
    assert.equal(relativeTime("2026-11-29T11:59:30Z", now), "30 seconds ago")
    assert.equal(relativeTime("2026-11-29T11:57:00Z", now), "3 minutes ago")
    assert.equal(relativeTime("2026-11-29T09:00:00Z", now), "3 hours ago")
    assert.equal(relativeTime("2026-11-28T12:00:00Z", now), "yesterday")
    assert.equal(relativeTime("2026-11-29T12:00:00Z", now), "now")
  })

  it("shows an unreadable time as it is", () => {
    assert.equal(relativeTime("yesterday-ish", now), "yesterday-ish")
  })
})

describe("STATE_COLORS", () => {
  it("gives completed green, failed red and running blue", () => {
    assert.deepEqual([STATE_COLORS.completed, STATE_COLORS.failed, STATE_COLORS.running], ["green", "red", "blue"])
  })
})
