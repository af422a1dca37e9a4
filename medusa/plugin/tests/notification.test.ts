import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { idempotencyKey, mailMarkerKey, NOTIFICATION_TEMPLATES, notificationData } from "../src/lib/notification"
import { WORKFLOW_KEY } from "../src/lib/status-write"

const ORDER = {
  id: "order_01ABC",
  email: "ada@example.com",
  display_id: 12,
  currency_code: "eur",
  total: 30,
  items: [{ title: "Fulfillment demo T-shirt", quantity: 2 }, null],
  payment_collections: [{ captured_amount: 30, refunded_amount: 30 }],
}

describe("notificationData", () => {
  it("is built from the order and the reason, with what happened to the money", () => {
    assert.deepEqual(notificationData(ORDER, { template: "order-canceled-stock", data: { reason: "Sold out" } }), {
      order_id: "order_01ABC",
      display_id: 12,
      items: [{ title: "Fulfillment demo T-shirt", quantity: 2 }],
      total: 30,
      currency_code: "eur",
      reason: "Sold out",
      money: { outcome: "refunded_in_full", captured_amount: 30, refunded_amount: 30 },
    })
  })

  it("has no reason for a confirmation, and says nothing was taken when nothing was captured", () => {
    const data = notificationData({ ...ORDER, payment_collections: [{ captured_amount: null }] }, {
      template: "order-confirmation",
      data: {},
    })
    assert.equal(data.reason, null)
    assert.equal(data.money.outcome, "nothing_taken")
  })
})

describe("the per-order marker", () => {
  it("is one of the workflow's keys, one per template", () => {
    assert.equal(mailMarkerKey("order-confirmation"), "workflow_mail_order_confirmation")
    const markers = NOTIFICATION_TEMPLATES.map(mailMarkerKey)
    assert.ok(markers.every((marker) => WORKFLOW_KEY.test(marker)))
    assert.equal(new Set(markers).size, NOTIFICATION_TEMPLATES.length)
  })

  it("and Medusa's idempotency key names order and template", () => {
    assert.equal(idempotencyKey("order_1", "order-confirmation"), "order_1.order-confirmation")
  })
})
