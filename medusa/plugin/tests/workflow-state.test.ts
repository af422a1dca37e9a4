import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { columnsOf, mirrorOf, type OrderWorkflowState, WORKFLOW_KEYS, workflowMetadata } from "../src/lib/workflow-state"

const STATE: OrderWorkflowState = {
  order_id: "order_01ABC",
  status: "completed",
  instance_key: "2251799813699999",
  message: "done",
  step: null,
  last_updated: "2026-11-29T08:00:00+00:00",
  mail: { "order-confirmation": "noti_01" },
  version: 4,
}

describe("columnsOf", () => {
  it("maps each workflow key the write names to its column, and leaves the others out", () => {
    assert.deepEqual(columnsOf({ workflow_status: "payment_verified", workflow_instance: "1", last_updated: "2026" }), {
      status: "payment_verified",
      instance_key: "1",
      last_updated: "2026",
    })
  })

  it("stores every value as text: a number keeps all its digits, an empty string or null is no value", () => {
    assert.deepEqual(columnsOf({ workflow_status: "payment_verified", workflow_instance: 2251799813699999, workflow_step: "" }), {
      status: "payment_verified",
      instance_key: "2251799813699999",
      step: null,
    })
    assert.deepEqual(columnsOf({ workflow_status: "payment_verified", workflow_message: null, workflow_step: true }), {
      status: "payment_verified",
      message: null,
      step: "true",
    })
  })
})

describe("workflowMetadata", () => {
  it("answers the keys with a value, as text, and one marker per mail sent", () => {
    assert.deepEqual(workflowMetadata(STATE), {
      workflow_status: "completed",
      workflow_instance: "2251799813699999",
      workflow_message: "done",
      last_updated: "2026-11-29T08:00:00+00:00",
      workflow_mail_order_confirmation: "noti_01",
    })
  })

  it("is empty for an order without a row", () => {
    assert.deepEqual(workflowMetadata(undefined), {})
    assert.deepEqual(workflowMetadata(null), {})
  })
})

describe("mirrorOf", () => {
  it("writes every workflow key: a value as text, and the empty string (Medusa deletes the key) for none", () => {
    assert.deepEqual(mirrorOf(STATE), { ...workflowMetadata(STATE), workflow_step: "" })
  })

  it("carries only workflow keys, so the order module's merge keeps every other key", () => {
    assert.ok(Object.keys(mirrorOf(STATE)).every((key) => /^(workflow_|last_updated$)/.test(key)))
  })

  it("removes every workflow key from an order that has no row", () => {
    assert.deepEqual(mirrorOf(null), Object.fromEntries(WORKFLOW_KEYS.map((key) => [key, ""])))
  })
})
