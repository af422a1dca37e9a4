import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { workerView } from "../src/lib/worker-view"

const ORDER = {
  id: "order_01ABC",
  display_id: 12,
  status: "pending",
  currency_code: "eur",
  total: 55,
  created_at: new Date("2026-11-29T08:00:00Z"),
  email: "ada@example.com",
  shipping_address: { first_name: "Ada", last_name: "Lovelace" },
  // A stale copy in metadata (e.g. staff saved an old snapshot): the view answers the module's keys instead.
  metadata: { workflow_status: "payment_verified", gift_note: "for Ada" },
  payment_collections: [
    { id: "pay_col_1", status: "authorized", amount: 55, authorized_amount: 55, captured_amount: null, refunded_amount: null, payments: [{ id: "pay_1" }] },
  ],
  items: [
    {
      id: "ordli_1",
      title: "T-shirt",
      variant_id: "variant_1",
      variant_sku: "TEE",
      quantity: 2,
      unit_price: 25,
      detail: { fulfilled_quantity: 0, shipped_quantity: 0 },
      variant: { manage_inventory: true, inventory_items: [{ inventory_item_id: "iitem_1", required_quantity: 1, id: "x" }] },
    },
    { id: "ordli_2", title: "Gift card", variant_id: null, variant_sku: null, quantity: 1, detail: null, variant: null },
  ],
}

const RESERVATIONS = [
  { id: "resitem_1", line_item_id: "ordli_1", inventory_item_id: "iitem_1", location_id: "sloc_1", quantity: 2, metadata: {} },
]

describe("workerView", () => {
  const view = workerView(ORDER, "authorized", RESERVATIONS, { workflow_status: "payment_verified" })

  it("answers the contract's fields", () => {
    assert.deepEqual(view, {
      order: {
        id: "order_01ABC",
        display_id: 12,
        status: "pending",
        currency_code: "eur",
        total: 55,
        created_at: "2026-11-29T08:00:00.000Z",
        payment_status: "authorized",
        payment_collections: [
          { id: "pay_col_1", status: "authorized", amount: 55, authorized_amount: 55, captured_amount: 0 },
        ],
        items: [
          {
            id: "ordli_1",
            title: "T-shirt",
            variant_id: "variant_1",
            variant_sku: "TEE",
            quantity: 2,
            detail: { fulfilled_quantity: 0 },
            variant: { manage_inventory: true, inventory_items: [{ inventory_item_id: "iitem_1", required_quantity: 1 }] },
          },
          {
            id: "ordli_2",
            title: "Gift card",
            variant_id: null,
            variant_sku: null,
            quantity: 1,
            detail: { fulfilled_quantity: 0 },
            variant: null,
          },
        ],
        reservations: [{ id: "resitem_1", line_item_id: "ordli_1", inventory_item_id: "iitem_1", location_id: "sloc_1", quantity: 2 }],
        workflow: { workflow_status: "payment_verified" },
      },
    })
  })

  it("carries no email, address or name", () => {
    assert.doesNotMatch(JSON.stringify(view), /ada|lovelace|address|email/i)
  })
})
