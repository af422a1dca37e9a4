/**
 * The status write's compare-and-set (src/lib/order-status.ts) against stand-ins for Medusa's Query and the
 * plugin's module: which writes ask the statement to check the order itself, and what a refusal is called.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { asValue } from "@medusajs/framework/awilix"
import { ContainerRegistrationKeys, createMedusaContainer } from "@medusajs/framework/utils"

import { compareAndSet, type StatusOrder } from "../src/lib/order-status"
import type { StatusWrite } from "../src/lib/status-write"
import { FULFILLMENT_WORKFLOW_MODULE } from "../src/modules/fulfillment-workflow"

const STORED = { order_id: "order_01RACE", status: "awaiting_payment", instance_key: "1", message: null, step: null, last_updated: null, mail: {}, version: 1 }

/** A module whose statement refuses when `canceledNow` (as the database does once the cancel landed). */
function world(canceledNow: boolean) {
  const asked: { openOrderOnly?: boolean }[] = []
  const container = createMedusaContainer()
  container.register({
    [ContainerRegistrationKeys.QUERY]: asValue({
      graph: async () => ({ data: [{ id: STORED.order_id, status: canceledNow ? "canceled" : "pending" }] }),
    }),
    [FULFILLMENT_WORKFLOW_MODULE]: asValue({
      compareAndSetStatus: async (_id: string, _columns: unknown, _replaces: unknown, options: { openOrderOnly?: boolean }) => {
        asked.push(options)
        const applied = !(options.openOrderOnly && canceledNow)
        return { applied, state: STORED }
      },
      statesOf: async () => [STORED],
    }),
  })
  return { container, asked }
}

function statusWrite(status: string): StatusWrite {
  return { action: "status", order_id: STORED.order_id, metadata: { workflow_status: status }, replaces: ["awaiting_payment"] }
}

/** The order as the route read it, before the cancel. */
const READ_OPEN: StatusOrder = { id: STORED.order_id, status: "pending" } as StatusOrder

describe("compareAndSet", () => {
  it("has the statement check the order for a status only an open order takes", async () => {
    const { container, asked } = world(false)
    const outcome = await compareAndSet(container, READ_OPEN, statusWrite("payment_verified"))
    assert.equal(outcome.applied, true)
    assert.deepEqual(asked, [{ openOrderOnly: true }])
  })

  it("lets the statuses that end a canceled order's process through without that check", async () => {
    for (const status of ["canceled", "payment_failed", "out_of_stock", "cancel_refused"]) {
      const { container, asked } = world(true)
      assert.equal((await compareAndSet(container, READ_OPEN, statusWrite(status))).applied, true, status)
      assert.deepEqual(asked, [{ openOrderOnly: false }], status)
    }
  })

  it("calls a write refused because the order was canceled after it was read order_canceled, not stale", async () => {
    const { container } = world(true)
    const outcome = await compareAndSet(container, READ_OPEN, statusWrite("completed"))
    assert.deepEqual({ applied: outcome.applied, reason: outcome.reason }, { applied: false, reason: "order_canceled" })
  })

  it("still calls a refusal of an open order stale", async () => {
    const container = world(false).container
    container.register(FULFILLMENT_WORKFLOW_MODULE, asValue({ compareAndSetStatus: async () => ({ applied: false, state: STORED }) }))
    const outcome = await compareAndSet(container, READ_OPEN, statusWrite("payment_verified"))
    assert.equal(outcome.reason, "stale")
  })
})
