import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { attentionSummary, newProcessBlocker, operateUrl, type OrderRecord, resendOption, workflowView } from "../src/lib/workflow-view"

const NOW = Date.parse("2026-11-29T12:00:00Z")
const SETTINGS = { operateBaseUrl: null, stalledAfterMs: 30 * 60_000 }

function order(workflow: Record<string, unknown> | null, created_at = "2026-11-29T11:59:00Z"): OrderRecord {
  return { id: "order_01TEST", display_id: 7, created_at, workflow }
}

function marks(metadata: Record<string, unknown>): string[] {
  return workflowView(order(metadata), SETTINGS, NOW).steps.map((step) => `${step.name}:${step.mark}`)
}

describe("workflowView", () => {
  it("shows an order without workflow keys as not started, every step pending", () => {
    const view = workflowView(order({ other: "kept" }), SETTINGS, NOW)
    assert.equal(view.state, "not_started")
    assert.equal(view.status, null)
    assert.deepEqual(marks({}), ["payment:pending", "inventory:pending", "notification:pending"])
    assert.equal(view.stalled, false)
  })

  it("marks the steps a running order has passed", () => {
    assert.deepEqual(marks({ workflow_status: "payment_verified" }), [
      "payment:done",
      "inventory:pending",
      "notification:pending",
    ])
    assert.deepEqual(marks({ workflow_status: "inventory_reserved" }), [
      "payment:done",
      "inventory:done",
      "notification:pending",
    ])
  })

  it("marks every step done for a completed order", () => {
    const view = workflowView(order({ workflow_status: "completed" }), SETTINGS, NOW)
    assert.equal(view.state, "completed")
    assert.deepEqual(marks({ workflow_status: "completed" }), ["payment:done", "inventory:done", "notification:done"])
  })

  it("marks the failed step of each failure status", () => {
    assert.deepEqual(marks({ workflow_status: "payment_failed" }), [
      "payment:failed",
      "inventory:pending",
      "notification:pending",
    ])
    assert.deepEqual(marks({ workflow_status: "out_of_stock" }), [
      "payment:done",
      "inventory:failed",
      "notification:pending",
    ])
    for (const status of ["payment_failed", "out_of_stock"]) {
      assert.equal(workflowView(order({ workflow_status: status }), SETTINGS, NOW).state, "failed")
    }
  })

  it("passes the message, the last update and the instance key through", () => {
    const view = workflowView(
      order({
        workflow_status: "payment_verified",
        workflow_message: "payment authorized: 42 EUR covers the total",
        last_updated: "2026-11-29T11:58:00+00:00",
        workflow_instance: "2251799813685251",
      }),
      SETTINGS,
      NOW
    )
    assert.equal(view.message, "payment authorized: 42 EUR covers the total")
    assert.equal(view.last_updated, "2026-11-29T11:58:00+00:00")
    assert.equal(view.process_instance_key, "2251799813685251")
    assert.equal(view.operate_url, null)
  })

  it("shows an unknown status as it is, without inventing steps", () => {
    const view = workflowView(order({ workflow_status: "teleported" }), SETTINGS, NOW)
    assert.equal(view.state, "unknown")
    assert.equal(view.status, "teleported")
    assert.deepEqual(
      view.steps.map((step) => step.mark),
      ["pending", "pending", "pending"]
    )
  })
})

describe("stalled", () => {
  const running = (last_updated: string) => ({ workflow_status: "payment_verified", last_updated })

  it("is a non-terminal status older than the threshold", () => {
    assert.equal(workflowView(order(running("2026-11-29T11:29:59Z")), SETTINGS, NOW).stalled, true)
    assert.equal(workflowView(order(running("2026-11-29T11:30:01Z")), SETTINGS, NOW).stalled, false)
  })

  it("is never a terminal status, however old", () => {
    for (const status of ["completed", "payment_failed", "out_of_stock", "cancel_refused", "canceled"]) {
      const metadata = { workflow_status: status, last_updated: "2026-01-01T00:00:00Z" }
      assert.equal(workflowView(order(metadata), SETTINGS, NOW).stalled, false, status)
    }
  })

  it("is an order that never started, counted from when it was placed", () => {
    assert.equal(workflowView(order({}, "2026-11-29T10:00:00Z"), SETTINGS, NOW).stalled, true)
    assert.equal(workflowView(order({}, "2026-11-29T11:45:00Z"), SETTINGS, NOW).stalled, false)
  })

  it("is not claimed from an unreadable time", () => {
    assert.equal(workflowView(order(running("yesterday")), SETTINGS, NOW).stalled, false)
  })
})

describe("operateUrl", () => {
  it("links the instance under Operate's base URL", () => {
    assert.equal(
      operateUrl("https://bru-2.operate.camunda.io/abc-123/", "2251799813685251"),
      "https://bru-2.operate.camunda.io/abc-123/processes/2251799813685251"
    )
  })

  it("is absent without a base URL or an instance", () => {
    assert.equal(operateUrl(undefined, "2251799813685251"), null)
    assert.equal(operateUrl("http://localhost:8081", null), null)
  })

  it("is part of the view when the option is set", () => {
    const view = workflowView(
      order({ workflow_status: "payment_verified", workflow_instance: "42" }),
      { ...SETTINGS, operateBaseUrl: "http://localhost:8081" },
      NOW
    )
    assert.equal(view.operate_url, "http://localhost:8081/processes/42")
  })
})

describe("attentionSummary", () => {
  it("lists failed and stalled orders, and nothing else", () => {
    const orders: OrderRecord[] = [
      { id: "order_A", display_id: 1, created_at: "2026-11-29T11:00:00Z", workflow: { workflow_status: "completed" } },
      {
        id: "order_B",
        display_id: 2,
        created_at: "2026-11-29T11:00:00Z",
        workflow: { workflow_status: "out_of_stock", workflow_message: "Some items are not reserved in stock." },
      },
      {
        id: "order_C",
        display_id: 3,
        created_at: "2026-11-29T10:00:00Z",
        workflow: { workflow_status: "payment_verified", last_updated: "2026-11-29T10:00:05Z" },
      },
      { id: "order_D", display_id: 4, created_at: "2026-11-29T11:59:00Z", workflow: {} },
    ]
    const since = new Date("2026-11-22T12:00:00Z")
    const summary = attentionSummary(orders, SETTINGS, { since, limit: 100 }, NOW)
    assert.equal(summary.checked, 4)
    assert.equal(summary.limit, 100)
    assert.equal(summary.since, since.toISOString())
    assert.deepEqual(
      summary.failed.map((o) => [o.id, o.display_id, o.status, o.message]),
      [["order_B", 2, "out_of_stock", "Some items are not reserved in stock."]]
    )
    assert.deepEqual(
      summary.stalled.map((o) => [o.id, o.status]),
      [["order_C", "payment_verified"]]
    )
  })
})

describe("the statuses of the business cases", () => {
  const settings = { stalledAfterMs: 60_000 }
  const longAgo = "2026-01-01T00:00:00.000Z"

  it("an order awaiting its payment is running and never stalled", () => {
    const view = workflowView(
      { id: "order_1", workflow: { workflow_status: "awaiting_payment", last_updated: longAgo } },
      settings
    )
    assert.equal(view.state, "running")
    assert.equal(view.stalled, false)
  })

  it("an order canceled in Medusa is final and needs no attention", () => {
    const order = { id: "order_2", workflow: { workflow_status: "canceled", last_updated: longAgo } }
    assert.equal(workflowView(order, settings).state, "canceled")
    const summary = attentionSummary([order], settings, { since: new Date(longAgo), limit: 100 })
    assert.deepEqual([summary.failed, summary.stalled], [[], []])
  })

  it("an order held for missing stock needs attention", () => {
    const order = { id: "order_3", workflow: { workflow_status: "out_of_stock", last_updated: longAgo } }
    assert.equal(attentionSummary([order], settings, { since: new Date(longAgo), limit: 100 }).failed.length, 1)
  })
})

describe("orders the workflow has nothing to do for", () => {
  const settings = { stalledAfterMs: 60_000 }
  const longAgo = "2026-01-01T00:00:00.000Z"
  const page = { since: new Date(longAgo), limit: 100 }
  const never = (extra: Partial<OrderRecord>): OrderRecord => ({ id: "order_X", created_at: longAgo, workflow: {}, ...extra })

  it("a canceled, archived or draft order is never stalled nor counted, however long it waited", () => {
    const closed = [
      never({ status: "canceled" }),
      never({ status: "archived" }),
      never({ status: "draft", is_draft_order: true }),
      never({ status: "pending", is_draft_order: true }),
    ]
    for (const order of closed) assert.equal(workflowView(order, settings).stalled, false, JSON.stringify(order))
    assert.deepEqual(attentionSummary(closed, settings, page), {
      since: longAgo,
      limit: 100,
      checked: 4,
      failed: [],
      stalled: [],
    })
  })

  it("a canceled order whose payment failed is not counted as failed; an open one is", () => {
    const metadata = { workflow_status: "payment_failed", last_updated: longAgo }
    const summary = attentionSummary(
      [never({ id: "order_closed", status: "canceled", workflow: metadata }), never({ id: "order_open", status: "pending", workflow: metadata })],
      settings,
      page
    )
    assert.deepEqual(
      summary.failed.map((o) => o.id),
      ["order_open"]
    )
  })

  it("an order Medusa refused to cancel needs attention", () => {
    const order = never({ status: "pending", workflow: { workflow_status: "cancel_refused", last_updated: longAgo } })
    assert.deepEqual(
      attentionSummary([order], settings, page).failed.map((o) => o.status),
      ["cancel_refused"]
    )
  })
})

describe("resendOption", () => {
  const notStarted = workflowView(order({}), SETTINGS, NOW)
  const running = workflowView(order({ workflow_status: "payment_verified", workflow_instance: "42" }), SETTINGS, NOW)

  it("is available for an open order the workflow does not have, with a webhook", () => {
    assert.deepEqual(resendOption({ status: "pending" }, notStarted, true), { offer: "available", reason: null })
  })

  it("is hidden on a canceled or draft order, saying why", () => {
    const canceled = resendOption({ status: "canceled" }, notStarted, true)
    assert.equal(canceled.offer, "hidden")
    assert.match(canceled.reason ?? "", /canceled/)
    const draft = resendOption({ status: "draft", is_draft_order: true }, notStarted, true)
    assert.equal(draft.offer, "hidden")
    assert.match(draft.reason ?? "", /draft order/)
  })

  it("is hidden when the workflow already has the order (the webhook would answer duplicate)", () => {
    for (const view of [
      running,
      workflowView(order({ workflow_status: "completed" }), SETTINGS, NOW),
      workflowView(order({ workflow_status: "teleported" }), SETTINGS, NOW),
      { ...notStarted, process_instance_key: "42" },
    ]) {
      const option = resendOption({ status: "pending" }, view, true)
      assert.equal(option.offer, "hidden", view.status ?? "instance only")
      assert.match(option.reason ?? "", /already has this order/)
    }
  })

  it("is disabled without a webhook, naming the options that turn it on", () => {
    const option = resendOption({ status: "pending" }, notStarted, false)
    assert.equal(option.offer, "disabled")
    assert.match(option.reason ?? "", /webhookUrl and webhookSecret/)
  })
})

describe("newProcessBlocker", () => {
  it("lets an open order get a process", () => {
    for (const status of ["pending", "completed", "requires_action"]) {
      assert.equal(newProcessBlocker({ status }), null, status)
    }
  })

  it("says why a closed order gets none, and what staff can do", () => {
    assert.match(newProcessBlocker({ status: "pending", is_draft_order: true }) ?? "", /draft order: .*converted to an order/)
    assert.match(newProcessBlocker({ status: "canceled" }) ?? "", /canceled, so it gets no fulfillment process\. .*create a new order/)
    assert.match(newProcessBlocker({ status: "archived" }) ?? "", /archived, so it gets no fulfillment process/)
  })

  it("is the one rule behind the resend option", () => {
    const notStarted = workflowView(order({}), SETTINGS, NOW)
    for (const closed of [{ status: "canceled" }, { status: "archived" }, { status: "draft", is_draft_order: true }]) {
      assert.equal(resendOption(closed, notStarted, true).reason, newProcessBlocker(closed))
    }
  })
})
