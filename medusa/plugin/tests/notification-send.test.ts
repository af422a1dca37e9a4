import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { idempotencyKey, mailMarkerKey, NotificationSendSchema } from "../src/lib/notification-send"
import { WORKFLOW_KEY } from "../src/lib/status-write"

const MAIL = { template: "order-confirmation", to: "ada@example.com", subject: "Your order", body: "Thanks" }

describe("NotificationSendSchema", () => {
  it("accepts a template, a recipient, a subject and a body", () => {
    assert.equal(NotificationSendSchema.safeParse(MAIL).success, true)
  })

  for (const [name, body] of [
    ["a template with odd characters", { ...MAIL, template: "../x" }],
    ["no recipient", { ...MAIL, to: "" }],
    ["an unknown field", { ...MAIL, cc: "x@example.com" }],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.equal(NotificationSendSchema.safeParse(body).success, false)
    })
  }
})

describe("the per-order marker", () => {
  it("is one of the workflow's keys, one per template", () => {
    assert.equal(mailMarkerKey("order-confirmation"), "workflow_mail_order_confirmation")
    assert.ok(WORKFLOW_KEY.test(mailMarkerKey("order-canceled-payment")))
    assert.notEqual(mailMarkerKey("order-confirmation"), mailMarkerKey("order-canceled-stock"))
  })

  it("and Medusa's idempotency key names order and template", () => {
    assert.equal(idempotencyKey("order_1", "order-confirmation"), "order_1.order-confirmation")
  })
})
