import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { camundaClientOf, FINAL_STATUSES, incidentView, restartBlocker, RestartBodySchema } from "../src/lib/order-actions"
import { orderPlacedEvent } from "../src/lib/order-events"
import { PluginOptionsError, resolveOptions } from "../src/lib/options"

const OPEN = { status: "pending", is_draft_order: false }
const ORDER = { id: "order_01ABC", display_id: 4, currency_code: "eur", total: 30, created_at: "2026-12-05T01:00:00.000Z" }

describe("restartBlocker", () => {
  it("lets a lost process of an open order restart, whatever non-final status it had reached", () => {
    for (const stored of [null, "awaiting_payment", "payment_verified", "inventory_reserved", "started"]) {
      assert.equal(restartBlocker(OPEN, stored), null, String(stored))
    }
  })

  it("refuses an ended process and a closed or draft order, saying why", () => {
    for (const stored of FINAL_STATUSES) {
      assert.match(restartBlocker(OPEN, stored) ?? "", /has ended/)
    }
    assert.match(restartBlocker({ status: "canceled" }, null) ?? "", /canceled/)
    assert.match(restartBlocker({ status: "pending", is_draft_order: true }, null) ?? "", /draft/)
  })
})

describe("the restart's order.placed", () => {
  it("carries the latest restart's number and its own webhook id", () => {
    const event = orderPlacedEvent({ ...ORDER, workflow_status: null, restart_count: 2 })
    assert.equal(event.id, "msg_order_placed_order_01ABC_restart_2")
    assert.equal((event.payload.data as { restart?: number }).restart, 2)
  })

  it("is the first start's event for an order never restarted", () => {
    const event = orderPlacedEvent({ ...ORDER, workflow_status: null, restart_count: 0 })
    assert.equal(event.id, "msg_order_placed_order_01ABC")
    assert.equal("restart" in (event.payload.data as object), false)
  })
})

describe("the restart's body", () => {
  it("needs a reason, trimmed, of at most 500 characters", () => {
    assert.equal(RestartBodySchema.safeParse({ reason: "  canceled in Operate by mistake " }).data?.reason, "canceled in Operate by mistake")
    for (const body of [{}, { reason: "   " }, { reason: "x".repeat(501) }, { reason: "ok", extra: 1 }]) {
      assert.equal(RestartBodySchema.safeParse(body).success, false, JSON.stringify(body))
    }
  })
})

describe("the camunda options", () => {
  it("are off when every value is unset, as a shop passes unset variables", () => {
    const options = resolveOptions({ camunda: { restUrl: undefined, tokenUrl: "", clientId: undefined } })
    assert.equal(options.camunda, undefined)
    assert.equal(camundaClientOf(options), null)
  })

  it("give one client per resolved options, so its token is reused", () => {
    const options = resolveOptions({ camunda: { restUrl: "http://127.0.0.1:8080" } })
    assert.ok(camundaClientOf(options))
    assert.equal(camundaClientOf(options), camundaClientOf(options))
  })

  it("refuse credentials without a token URL and a token URL without credentials, naming the option", () => {
    assert.throws(
      () => resolveOptions({ camunda: { restUrl: "http://c", clientId: "a", clientSecret: "b" } }),
      (error: unknown) => error instanceof PluginOptionsError && error.option === "camunda.tokenUrl"
    )
    assert.throws(
      () => resolveOptions({ camunda: { restUrl: "http://c", tokenUrl: "http://t" } }),
      (error: unknown) => error instanceof PluginOptionsError && error.option === "camunda.clientId"
    )
  })
})

describe("incidentView", () => {
  it("shows the engine's message, or its error type when it gave none", () => {
    const incident = {
      incidentKey: "7",
      processInstanceKey: "5",
      errorType: "EXTRACT_VALUE_ERROR",
      errorMessage: "",
      elementId: "PaymentSettled",
      creationTime: "2026-12-05T01:02:03.000Z",
      state: "ACTIVE",
      jobKey: null,
    }
    assert.equal(incidentView(incident).message, "EXTRACT_VALUE_ERROR")
    assert.equal(incidentView({ ...incident, errorMessage: "no variable total" }).message, "no variable total")
  })
})
