import assert from "node:assert/strict"
import { describe, it } from "node:test"

import {
  coverageSentence,
  durationWords,
  everyWords,
  humanDate,
  humanizeTimes,
  refreshSentence,
  relativeTime,
  STATE_COLORS,
  statusLabel,
  statusSentence,
} from "../src/admin/lib/presentation"
import { workflowView } from "../src/lib/workflow-view"

describe("statusLabel", () => {
  it("reads a status as words, and no status as not started", () => {
    assert.equal(statusLabel("payment_failed"), "Payment failed")
    assert.equal(statusLabel("completed"), "Completed")
    assert.equal(statusLabel(null), "Not started")
  })
})

describe("relativeTime", () => {
  const now = Date.parse("2026-11-29T12:00:00Z")

  it("names the largest unit that fits", () => {
    assert.equal(relativeTime("2026-11-29T11:59:30Z", now), "30 seconds ago")
    assert.equal(relativeTime("2026-11-29T11:57:00Z", now), "3 minutes ago")
    assert.equal(relativeTime("2026-11-29T09:00:00Z", now), "3 hours ago")
    assert.equal(relativeTime("2026-11-28T12:00:00Z", now), "yesterday")
    assert.equal(relativeTime("2026-11-29T12:00:00Z", now), "now")
  })

  it("shows an unreadable time as it is", () => {
    assert.equal(relativeTime("yesterday-ish", now), "yesterday-ish")
  })
})

describe("STATE_COLORS", () => {
  it("gives completed green, failed red and running blue", () => {
    assert.deepEqual([STATE_COLORS.completed, STATE_COLORS.failed, STATE_COLORS.running], ["green", "red", "blue"])
  })
})

const NOW = Date.parse("2026-12-04T12:00:00Z")
const UTC = "UTC"

describe("humanDate", () => {
  it("writes day, month and time, with the year only when it is not this year's", () => {
    assert.equal(humanDate("2026-12-07T22:20:00.000+00:00", NOW, UTC), "7 Dec, 22:20")
    assert.equal(humanDate("2025-12-07T22:20:00Z", NOW, UTC), "7 Dec 2025, 22:20")
    assert.equal(humanDate("2026-12-07T22:20:00Z", NOW, "Europe/Berlin"), "7 Dec, 23:20")
  })

  it("shows an unreadable time as it is", () => {
    assert.equal(humanDate("soon", NOW, UTC), "soon")
  })
})

describe("humanizeTimes", () => {
  it("rewrites the ISO times in a workflow message and leaves the rest", () => {
    assert.equal(
      humanizeTimes("payment status 'not_paid': waiting for it until 2026-12-07T22:20:00.123456+00:00", NOW, UTC),
      "payment status 'not_paid': waiting for it until 7 Dec, 22:20"
    )
    assert.equal(humanizeTimes("order confirmed", NOW, UTC), "order confirmed")
  })
})

describe("durations", () => {
  it("reads a wait in the largest whole unit", () => {
    assert.deepEqual([5_000, 1_000, 60_000, 120_000, 600_000].map(durationWords), [
      "5 seconds",
      "1 second",
      "1 minute",
      "2 minutes",
      "10 minutes",
    ])
    assert.deepEqual([60_000, 15_000, 120_000].map(everyWords), ["every minute", "every 15 seconds", "every 2 minutes"])
  })
})

describe("statusSentence", () => {
  const view = (metadata: Record<string, unknown>, created_at = "2026-12-04T11:59:00Z") =>
    workflowView({ id: "order_1", created_at, workflow: metadata }, { stalledAfterMs: 30 * 60_000 }, NOW)

  it("says an unpaid order waits for its payment until the deadline in the message, as a human date", () => {
    const waiting = view({
      workflow_status: "awaiting_payment",
      workflow_message: "payment status 'not_paid': waiting for it until 2026-12-07T22:20:00+00:00",
    })
    const sentence = statusSentence(waiting, NOW, UTC)
    assert.match(sentence, /^Not paid yet; the workflow checks the payment again until 7 Dec, 22:20 /)
    assert.doesNotMatch(sentence, /2026-|awaiting_payment|not_paid/)
  })

  it("has a plain sentence for every status, without raw values", () => {
    for (const status of [
      "awaiting_payment",
      "payment_verified",
      "inventory_reserved",
      "completed",
      "payment_failed",
      "out_of_stock",
      "cancel_refused",
      "canceled",
    ]) {
      const sentence = statusSentence(view({ workflow_status: status }), NOW, UTC)
      assert.match(sentence, /^[A-Z].*\.$/, status)
      assert.doesNotMatch(sentence, /_/, status)
    }
    assert.match(statusSentence(view({}), NOW, UTC), /^Not in the workflow yet/)
  })

  it("adds since when there has been no news for a stalled order", () => {
    const stalled = view({ workflow_status: "payment_verified", last_updated: "2026-12-04T09:15:00Z" })
    assert.equal(
      statusSentence(stalled, NOW, UTC),
      "Payment verified; the stock is reserved next. No news from the workflow since 4 Dec, 09:15: it may be stuck."
    )
  })
})

describe("refreshSentence", () => {
  it("says when a failed read is tried again", () => {
    assert.equal(
      refreshSentence({ failures: 3, nextReadMs: 20_000, error: "Service Unavailable" }),
      "Could not load the workflow status (Service Unavailable); trying again in 20 seconds."
    )
  })

  it("says when the panel looks only now and then, and nothing otherwise", () => {
    assert.equal(refreshSentence({ failures: 0, nextReadMs: 60_000 }), "This panel looks again every minute.")
    assert.equal(refreshSentence({ failures: 0, nextReadMs: 5_000 }), null)
    assert.equal(refreshSentence({ failures: 0, nextReadMs: false }), null)
  })
})

describe("coverageSentence", () => {
  const summary = { since: "2026-11-27T12:00:00Z", failed: [], stalled: [] }

  it("says all orders were checked when the page was not full", () => {
    assert.equal(
      coverageSentence({ ...summary, limit: 100, checked: 12 }, NOW, UTC),
      "Checked all 12 open orders placed since 27 Nov, 12:00."
    )
  })

  it("says only the newest were checked when the page was full", () => {
    assert.equal(
      coverageSentence({ ...summary, limit: 100, checked: 100 }, NOW, UTC),
      "Checked the newest 100 open orders placed since 27 Nov, 12:00; older ones are not counted."
    )
  })
})

describe("statusSentence for closed orders", () => {
  it("says nothing will start for a canceled order or a draft without a process", () => {
    const closed = (status: string, is_draft_order = false) =>
      statusSentence(
        workflowView({ id: "order_1", status, is_draft_order, workflow: {} }, { stalledAfterMs: 60_000 }, NOW),
        NOW,
        UTC
      )
    assert.equal(closed("canceled"), "Not in the workflow, and nothing will start: the order is canceled.")
    assert.equal(closed("draft", true), "Not in the workflow, and nothing will start: the order is a draft.")
  })
})

describe("statusSentence for missing stock", () => {
  it("says whether the order was held for staff or canceled, from Medusa's status", () => {
    const outOfStock = (status: string) =>
      statusSentence(
        workflowView({ id: "order_1", status, workflow: { workflow_status: "out_of_stock" } }, { stalledAfterMs: 60_000 }),
        NOW,
        UTC
      )
    assert.equal(outOfStock("pending"), "Some items are not in stock; the order is held for staff to decide.")
    assert.match(outOfStock("canceled"), /the order was canceled in Medusa/)
  })
})
