import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { decide, isRecorded, STATUSES_OF_A_CANCELED_ORDER, StatusWriteSchema, workflowKeys } from "../src/lib/status-write"

const STARTED = { workflow_status: "started", workflow_instance: "1", last_updated: "2026-11-29T08:00:00Z" }
const WRITE = { action: "status", order_id: "order_01ABC", metadata: STARTED, replaces: [null, "started"] }

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
    ["a foreign key", { ...WRITE, metadata: { ...STARTED, gift_note: "x" } }],
    ["the plugin's own mail marker", { ...WRITE, metadata: { ...STARTED, workflow_mail_order_confirmation: "x" } }],
    ["no workflow_status", { ...WRITE, metadata: { workflow_message: "x" } }],
    ["a nested value", { ...WRITE, metadata: { ...STARTED, workflow_step: { a: 1 } } }],
    ["replaces missing", { action: "status", order_id: "order_01ABC", metadata: STARTED }],
    ["an unknown field", { ...WRITE, force: true }],
    ["another route's action", { ...WRITE, action: "cancel" }],
    ["no order id", { action: "status", metadata: STARTED, replaces: [null] }],
    ["an unknown template", { ...WRITE, notification: { template: "order-shipped", data: {} } }],
    ["customer data in the mail", { ...WRITE, notification: { template: "order-confirmation", data: { to: "x@y.z" } } }],
    ["a reason over 500 characters", { ...WRITE, notification: { template: "order-canceled-stock", data: { reason: "x".repeat(501) } } }],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.equal(StatusWriteSchema.safeParse(body).success, false)
    })
  }
})

describe("decide", () => {
  const write = { metadata: { workflow_status: "payment_verified" }, replaces: [null, "started"] }

  it("applies when the stored status is listed, or none is stored and null is listed", () => {
    assert.deepEqual(decide({ status: "pending", metadata: { workflow_status: "started" } }, write), { apply: true })
    assert.deepEqual(decide({ status: "pending", metadata: null }, write), { apply: true })
    assert.deepEqual(decide({ status: "pending", metadata: { workflow_status: "" } }, write), { apply: true })
  })

  it("is stale when the stored status is not listed", () => {
    const order = { status: "pending", metadata: { workflow_status: "completed" } }
    assert.deepEqual(decide(order, write), { apply: false, reason: "stale" })
  })

  it("never writes a running or completed status to a canceled order", () => {
    const order = { status: "canceled", metadata: { workflow_status: "started" } }
    assert.deepEqual(decide(order, write), { apply: false, reason: "order_canceled" })
    const completed = { metadata: { workflow_status: "completed" }, replaces: [null, "started"] }
    assert.deepEqual(decide(order, completed), { apply: false, reason: "order_canceled" })
  })

  it("takes on a canceled order the statuses that end a process without fulfilling it", () => {
    assert.deepEqual([...STATUSES_OF_A_CANCELED_ORDER], ["canceled", "payment_failed", "out_of_stock", "cancel_refused"])
    for (const status of STATUSES_OF_A_CANCELED_ORDER) {
      const ending = { metadata: { workflow_status: status }, replaces: [null, "started", "payment_verified"] }
      assert.deepEqual(decide({ status: "canceled", metadata: { workflow_status: "started" } }, ending), { apply: true })
      // Still a compare-and-set: once recorded, a repeat is stale.
      assert.deepEqual(decide({ status: "canceled", metadata: { workflow_status: status } }, ending), {
        apply: false,
        reason: "stale",
      })
    }
  })
})

describe("isRecorded", () => {
  const write = { metadata: { workflow_status: "completed" }, replaces: [null, "inventory_reserved"] }

  it("is true for a write applied now", () => {
    const order = { status: "pending", metadata: { workflow_status: "inventory_reserved" } }
    assert.equal(isRecorded(order, write, decide(order, write)), true)
  })

  it("is true for a repeat of the stored status (a retry after a lost answer)", () => {
    const order = { status: "pending", metadata: { workflow_status: "completed" } }
    assert.equal(isRecorded(order, write, decide(order, write)), true)
  })

  it("is false for a stale write of another status", () => {
    const order = { status: "pending", metadata: { workflow_status: "out_of_stock" } }
    assert.equal(isRecorded(order, write, decide(order, write)), false)
  })

  it("is false for a canceled order that does not take the status, even when it is stored", () => {
    const order = { status: "canceled", metadata: { workflow_status: "completed" } }
    assert.equal(isRecorded(order, write, decide(order, write)), false)
  })
})

describe("workflowKeys", () => {
  it("keeps only the workflow's keys", () => {
    assert.deepEqual(workflowKeys({ ...STARTED, gift_note: "x", workflowish: 1 }), STARTED)
    assert.deepEqual(workflowKeys(null), {})
  })
})
