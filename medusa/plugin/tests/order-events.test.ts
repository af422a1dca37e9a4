import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { orderCanceledEvent, orderEvent, orderPlacedEvent } from "../src/lib/order-events"

const ORDER = {
  id: "order_01ABC",
  display_id: 12,
  status: "pending",
  currency_code: "eur",
  total: 30,
  created_at: new Date("2026-11-29T08:00:00Z"),
  canceled_at: null,
  metadata: { gift_note: "for Ada", workflow_status: "completed" },
  email: "ada@example.com",
}

describe("orderPlacedEvent", () => {
  it("carries what the process needs and nothing about the customer", () => {
    assert.deepEqual(orderPlacedEvent(ORDER), {
      id: "msg_order_placed_order_01ABC",
      payload: {
        type: "order.placed",
        occurred_at: "2026-11-29T08:00:00.000Z",
        data: {
          id: "order_01ABC",
          display_id: 12,
          currency_code: "eur",
          total: 30,
          created_at: "2026-11-29T08:00:00.000Z",
          workflow_status: null,
        },
      },
    })
    assert.doesNotMatch(JSON.stringify(orderPlacedEvent(ORDER)), /ada|gift/i)
  })

  it("carries the stored workflow status of an order already under way", () => {
    const started = { ...ORDER, workflow_status: "payment_verified" }
    assert.equal((orderPlacedEvent(started).payload.data as { workflow_status: string }).workflow_status, "payment_verified")
  })

  it("is the same body for one order whoever sends it (subscriber, job, resend)", () => {
    assert.deepEqual(orderPlacedEvent(ORDER), orderPlacedEvent({ ...ORDER, created_at: "2026-11-29T08:00:00.000Z" as never }))
  })
})

describe("orderCanceledEvent", () => {
  it("is sent only for an order Medusa shows canceled", () => {
    assert.equal(orderCanceledEvent(ORDER), null)
    const canceled = { ...ORDER, status: "canceled", canceled_at: new Date("2026-11-29T09:00:00Z") }
    assert.deepEqual(orderCanceledEvent(canceled), {
      id: "msg_order_canceled_order_01ABC",
      payload: { type: "order.canceled", occurred_at: "2026-11-29T09:00:00.000Z", data: { id: "order_01ABC", status: "canceled" } },
    })
  })

  it("is what orderEvent builds for order.canceled", () => {
    assert.equal(orderEvent("order.canceled", ORDER), null)
    assert.equal(orderEvent("order.placed", ORDER)?.id, "msg_order_placed_order_01ABC")
  })
})
