import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { renderMail } from "../src/modules/outbox-notification/render"

const ORDER = {
  order_id: "order_01ABC",
  display_id: 12,
  items: [{ title: "Fulfillment demo T-shirt", quantity: 2 }],
  total: 55,
  currency_code: "eur",
  reason: null,
}

describe("renderMail", () => {
  it("confirms an order with its items and total", () => {
    const mail = renderMail("order-confirmation", ORDER)
    assert.equal(mail.subject, "Your order #12 is confirmed")
    assert.match(mail.body, /2 x Fulfillment demo T-shirt/)
    assert.match(mail.body, /Total: 55\.00 EUR/)
  })

  it("says why an order was canceled and what happened to the money", () => {
    const refunded = renderMail("order-canceled-stock", {
      ...ORDER,
      reason: "Sold out",
      money: { outcome: "refunded_in_full", captured_amount: 30, refunded_amount: 30 },
    })
    assert.equal(refunded.subject, "Your order #12 has been canceled")
    assert.match(refunded.body, /We have canceled your order #12\.\n\nReason: Sold out\n/)
    assert.match(refunded.body, /The 30\.00 EUR you paid has been refunded in full\./)

    const partly = renderMail("order-canceled-payment", {
      ...ORDER,
      money: { outcome: "partly_refunded", captured_amount: 30, refunded_amount: 10 },
    })
    assert.match(partly.body, /Reason: We could not confirm your payment\./)
    assert.match(partly.body, /Of the 30\.00 EUR you paid, 10\.00 EUR has been refunded/)

    const nothing = renderMail("order-canceled-payment", {
      ...ORDER,
      money: { outcome: "nothing_taken", captured_amount: 0, refunded_amount: 0 },
    })
    assert.match(nothing.body, /No money was taken/)
  })

  it("refuses a template it has no mail for", () => {
    assert.throws(() => renderMail("order-shipped", ORDER), /order-shipped/)
  })
})
