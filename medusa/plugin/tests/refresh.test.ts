import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { backoffMs, ORDER_REFRESH, orderRefreshMs, SUMMARY_REFRESH, summaryRefreshMs } from "../src/admin/lib/refresh"
import { type OrderRecord, workflowView } from "../src/lib/workflow-view"

const NOW = Date.parse("2026-12-04T12:00:00Z")
const SETTINGS = { stalledAfterMs: 30 * 60_000 }

function view(metadata: Record<string, unknown>, extra: Partial<OrderRecord> = {}) {
  return workflowView({ id: "order_1", created_at: "2026-12-04T11:59:00Z", workflow: metadata, ...extra }, SETTINGS, NOW)
}

describe("backoffMs", () => {
  it("doubles from the first wait up to the cap: 5 s, 10 s, 20 s, 40 s, then 60 s", () => {
    const schedule = [1, 2, 3, 4, 5, 6, 50].map((failures) => backoffMs(failures, ORDER_REFRESH.errors))
    assert.deepEqual(schedule, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000])
  })

  it("never overflows, however many failures", () => {
    assert.equal(backoffMs(10_000, { firstMs: 1_000, maxMs: 7_000 }), 7_000)
  })
})

describe("orderRefreshMs", () => {
  const fresh = "2026-12-04T11:59:55Z"

  it("stops once the workflow has ended", () => {
    for (const status of ["completed", "canceled", "payment_failed", "out_of_stock", "cancel_refused"]) {
      assert.equal(orderRefreshMs(view({ workflow_status: status, last_updated: fresh }), 0), false, status)
    }
  })

  it("follows a running process every 5 s", () => {
    assert.equal(orderRefreshMs(view({ workflow_status: "payment_verified", last_updated: fresh }), 0), 5_000)
  })

  it("looks only once a minute while the order waits for its payment, or is stalled", () => {
    assert.equal(orderRefreshMs(view({ workflow_status: "awaiting_payment", last_updated: fresh }), 0), 60_000)
    const stalled = view({ workflow_status: "inventory_reserved", last_updated: "2026-12-04T10:00:00Z" })
    assert.equal(stalled.stalled, true)
    assert.equal(orderRefreshMs(stalled, 0), 60_000)
    assert.equal(orderRefreshMs(view({}, { created_at: "2026-12-04T09:00:00Z" }), 0), 60_000)
    assert.equal(orderRefreshMs(view({ workflow_status: "teleported" }), 0), 60_000)
  })

  it("waits 15 s for a young order's process to start", () => {
    assert.equal(orderRefreshMs(view({}), 0), 15_000)
  })

  it("backs off after failed reads, whatever it showed before", () => {
    const ended = view({ workflow_status: "completed" })
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((failures) => orderRefreshMs(ended, failures)),
      [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]
    )
    assert.equal(orderRefreshMs(undefined, 2), 10_000)
  })

  it("schedules nothing before the first answer", () => {
    assert.equal(orderRefreshMs(undefined, 0), false)
  })
})

describe("summaryRefreshMs", () => {
  it("reads every two minutes, and backs off from 15 s to 10 minutes after errors", () => {
    assert.equal(summaryRefreshMs(0), 120_000)
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map(summaryRefreshMs),
      [15_000, 30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]
    )
  })

  it("asks for a bounded page", () => {
    assert.ok(SUMMARY_REFRESH.limit > 0 && SUMMARY_REFRESH.limit <= 200)
  })
})

describe("orderRefreshMs for closed orders", () => {
  it("stops for a canceled or draft order that never reached the workflow", () => {
    assert.equal(orderRefreshMs(view({}, { status: "canceled" }), 0), false)
    assert.equal(orderRefreshMs(view({}, { status: "draft", is_draft_order: true }), 0), false)
  })

  it("looks once a minute while a canceled order's process has still to end", () => {
    const ending = view({ workflow_status: "payment_verified", last_updated: "2026-12-04T11:59:55Z" }, { status: "canceled" })
    assert.equal(orderRefreshMs(ending, 0), 60_000)
  })
})
