import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { decide, StatusWriteSchema, workflowKeys } from "../src/lib/status-write"

const STARTED = { workflow_status: "started", workflow_instance: "1", last_updated: "2026-11-29T08:00:00Z" }

describe("StatusWriteSchema", () => {
  it("accepts workflow keys and a list of replaceable statuses, null standing for none stored", () => {
    const parsed = StatusWriteSchema.safeParse({ metadata: STARTED, replaces: [null, "started"] })
    assert.equal(parsed.success, true)
  })

  for (const [name, body] of [
    ["a foreign key", { metadata: { ...STARTED, gift_note: "x" }, replaces: [null] }],
    ["no workflow_status", { metadata: { workflow_message: "x" }, replaces: [null] }],
    ["a nested value", { metadata: { ...STARTED, workflow_step: { a: 1 } }, replaces: [null] }],
    ["replaces missing", { metadata: STARTED }],
    ["an unknown field", { metadata: STARTED, replaces: [null], force: true }],
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

  it("never writes to a canceled order", () => {
    const order = { status: "canceled", metadata: { workflow_status: "started" } }
    assert.deepEqual(decide(order, write), { apply: false, reason: "order_canceled" })
  })
})

describe("workflowKeys", () => {
  it("keeps only the workflow's keys", () => {
    assert.deepEqual(workflowKeys({ ...STARTED, gift_note: "x", workflowish: 1 }), STARTED)
    assert.deepEqual(workflowKeys(null), {})
  })
})
