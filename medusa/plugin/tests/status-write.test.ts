import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { isRecorded, refusedByOrder, STATUSES_OF_A_CANCELED_ORDER, StatusWriteSchema } from "../src/lib/status-write"

const VERIFIED = { workflow_status: "payment_verified", workflow_instance: "1", last_updated: "2026-11-29T08:00:00Z" }
const WRITE = { action: "status", order_id: "order_01ABC", metadata: VERIFIED, replaces: [null, "awaiting_payment"] }

describe("StatusWriteSchema", () => {
  it("accepts workflow keys and a list of replaceable statuses, null standing for none stored", () => {
    assert.equal(StatusWriteSchema.safeParse(WRITE).success, true)
  })

  it("accepts a notification: a known template and at most a reason", () => {
    const withMail = { ...WRITE, notification: { template: "order-canceled-stock", data: { reason: "Sold out" } } }
    assert.equal(StatusWriteSchema.safeParse(withMail).success, true)
    const parsed = StatusWriteSchema.parse({ ...WRITE, notification: { template: "order-confirmation" } })
    assert.deepEqual(parsed.notification, { template: "order-confirmation", data: {} })
  })

  for (const [name, body] of [
    ["a foreign key", { ...WRITE, metadata: { ...VERIFIED, gift_note: "x" } }],
    ["the plugin's own mail marker", { ...WRITE, metadata: { ...VERIFIED, workflow_mail_order_confirmation: "x" } }],
    ["a workflow key the plugin does not store", { ...WRITE, metadata: { ...VERIFIED, workflow_priority: "high" } }],
    ["no workflow_status", { ...WRITE, metadata: { workflow_message: "x" } }],
    ["a nested value", { ...WRITE, metadata: { ...VERIFIED, workflow_step: { a: 1 } } }],
    ["replaces missing", { action: "status", order_id: "order_01ABC", metadata: VERIFIED }],
    ["an unknown field", { ...WRITE, force: true }],
    ["another route's action", { ...WRITE, action: "cancel" }],
    ["no order id", { action: "status", metadata: VERIFIED, replaces: [null] }],
    ["an unknown template", { ...WRITE, notification: { template: "order-shipped", data: {} } }],
    ["customer data in the mail", { ...WRITE, notification: { template: "order-confirmation", data: { to: "x@y.z" } } }],
    ["a reason over 500 characters", { ...WRITE, notification: { template: "order-canceled-stock", data: { reason: "x".repeat(501) } } }],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.equal(StatusWriteSchema.safeParse(body).success, false)
    })
  }
})

describe("refusedByOrder", () => {
  it("never lets a canceled order take a running or completed status", () => {
    for (const status of ["payment_verified", "inventory_reserved", "completed"]) {
      assert.equal(refusedByOrder("canceled", { metadata: { workflow_status: status } }), true, status)
    }
  })

  it("lets a canceled order take the statuses that end a process without fulfilling it", () => {
    assert.deepEqual([...STATUSES_OF_A_CANCELED_ORDER], ["canceled", "payment_failed", "out_of_stock", "cancel_refused"])
    for (const status of STATUSES_OF_A_CANCELED_ORDER) {
      assert.equal(refusedByOrder("canceled", { metadata: { workflow_status: status } }), false, status)
    }
  })

  it("refuses nothing on an order that is not canceled (the stored status decides)", () => {
    assert.equal(refusedByOrder("pending", { metadata: { workflow_status: "completed" } }), false)
    assert.equal(refusedByOrder("completed", { metadata: { workflow_status: "completed" } }), false)
  })
})

describe("isRecorded", () => {
  const write = { metadata: { workflow_status: "completed" } }

  it("is true for a write applied now", () => {
    assert.equal(isRecorded({ applied: true, reason: null }, "completed", write), true)
  })

  it("is true for a repeat of the stored status (a retry after a lost answer)", () => {
    assert.equal(isRecorded({ applied: false, reason: "stale" }, "completed", write), true)
  })

  it("is false for a stale write of another status, or when none is stored", () => {
    assert.equal(isRecorded({ applied: false, reason: "stale" }, "out_of_stock", write), false)
    assert.equal(isRecorded({ applied: false, reason: "stale" }, null, write), false)
  })

  it("is false for a canceled order that does not take the status, even when it is stored", () => {
    assert.equal(isRecorded({ applied: false, reason: "order_canceled" }, "completed", write), false)
  })
})
