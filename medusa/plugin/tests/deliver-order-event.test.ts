import "./support/registered-options"

import assert from "node:assert/strict"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { after, afterEach, before, beforeEach, describe, it } from "node:test"

import { asValue } from "@medusajs/framework/awilix"
import { TransactionState } from "@medusajs/framework/orchestration"
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, createMedusaContainer } from "@medusajs/framework/utils"

import { resolveOptions } from "../src/lib/options"
import { eventMessageId, type ForwardedEvent, ORDER_CANCELED, ORDER_PLACED } from "../src/lib/order-events"
import { FULFILLMENT_WORKFLOW_MODULE } from "../src/modules/fulfillment-workflow"
import {
  DELIVER_ORDER_EVENT,
  deliverOrderEventWorkflow,
  durableRetrySettings,
  startOrderEventDelivery,
} from "../src/workflows/deliver-order-event"
import { REGISTERED } from "./support/registered-options"
import { WorkflowEngineDouble } from "./support/workflow-engine-double"

type Reply = { status: number; afterMs?: number }

let server: Server
let url: string
let replies: Reply[] = []
let requests = 0
let container: MedusaContainer
let engine: WorkflowEngineDouble
let logLines: string[] = []
let orderCounter = 0

function answer(request: IncomingMessage, response: ServerResponse): void {
  request.resume()
  request.on("end", () => {
    requests++
    const reply = replies.shift() ?? { status: 202 }
    setTimeout(() => response.writeHead(reply.status).end(JSON.stringify({ status: "started" })), reply.afterMs ?? 0)
  })
}

function newContainer(order: Record<string, unknown>): MedusaContainer {
  const options = resolveOptions({ ...REGISTERED, webhookUrl: url })
  const record = (level: string) => (message: string) => logLines.push(`${level} ${message}`)
  const created = createMedusaContainer()
  created.register({
    [ContainerRegistrationKeys.LOGGER]: asValue({ info: record("info"), warn: record("warn"), error: record("error") }),
    [ContainerRegistrationKeys.QUERY]: asValue({ graph: async () => ({ data: [order] }) }),
    // No process has reported for the test orders: the plugin's table holds no state for them.
    [FULFILLMENT_WORKFLOW_MODULE]: asValue({ getOptions: () => options, statesOf: async () => [] }),
  })
  return created
}

function placedOrder(): Record<string, unknown> {
  orderCounter++
  return { id: `order_0${orderCounter}`, status: "pending", created_at: "2026-01-01T00:00:00Z", metadata: {} }
}

/** Polls until `done()`: the engine runs the retries on its own timers. */
async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log: ${logLines.join(" | ")}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * The delivery's last line (delivered, refused or given up) is logged, and the engine has stored its
 * transaction as done: the step logs before the orchestrator saves the transaction's end.
 */
const finished = (orderId: string, event: ForwardedEvent = ORDER_PLACED) => () => {
  const transactionId = eventMessageId(event, orderId)
  const logged = logLines.some((line) => new RegExp(`${transactionId}: (delivered|permanently|gave up)`).test(line))
  return logged && engine.state(DELIVER_ORDER_EVENT, transactionId) === TransactionState.DONE
}

describe("the durable delivery of an order's event", () => {
  let order: Record<string, unknown>

  before(async () => {
    server = createServer(answer)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })
  beforeEach(() => {
    replies = []
    requests = 0
    logLines = []
    order = placedOrder()
    container = newContainer(order)
    engine = new WorkflowEngineDouble(container)
  })
  afterEach(() => engine.close())

  it("takes its retry settings from the registered options: the step's interval is theirs", () => {
    assert.deepEqual(durableRetrySettings(), { maxRetries: 99, retryInterval: 1 })
  })

  it("returns to the subscriber before the receiver answers, and delivers afterwards", async () => {
    replies = [{ status: 202, afterMs: 3_000 }]
    const started = Date.now()
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)
    const returnedAfterMs = Date.now() - started
    assert.ok(returnedAfterMs < 1_000, `the subscriber waited ${returnedAfterMs} ms`)
    assert.equal(engine.state(DELIVER_ORDER_EVENT, `msg_order_placed_${order.id}`), "invoking")

    await until(finished(order.id as string), "the delivery")
    assert.equal(requests, 1)
    assert.ok(logLines.some((line) => line.includes(`msg_order_placed_${order.id}: delivered (HTTP 202, attempt 1)`)))
  })

  it("is retried by the engine at the step's interval while the receiver fails, then delivered once", async () => {
    replies = [{ status: 503 }, { status: 503 }]
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)

    await until(finished(order.id as string), "the delivery")
    assert.equal(requests, 3)
    assert.deepEqual(engine.scheduledRetries.filter((seconds) => seconds > 0), [1, 1])
    assert.ok(logLines.some((line) => line.includes("delivered (HTTP 202, attempt 3)")), logLines.join("\n"))
  })

  it("gives up after retry.maxAttempts and ends the delivery without failing the workflow", async () => {
    replies = [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }]
    const transactionId = eventMessageId(ORDER_PLACED, order.id as string)
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)

    await until(finished(order.id as string), "the delivery to give up")
    assert.equal(requests, 3)
    assert.ok(logLines.some((line) => line.includes(`${transactionId}: gave up after 3 attempts`)))
  })

  it("ends at once on a permanent refusal, logged as such", async () => {
    replies = [{ status: 401 }]
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)

    await until(finished(order.id as string), "the delivery")
    assert.equal(requests, 1)
    assert.deepEqual(engine.scheduledRetries.filter((seconds) => seconds > 0), [])
    assert.ok(logLines.some((line) => /^error .*permanently rejected with HTTP 401/.test(line)))
  })

  it("sends nothing more when the same order and event start again, while running and once finished", async () => {
    replies = [{ status: 503 }]
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)
    await until(() => requests === 1, "the first attempt")
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)
    await until(finished(order.id as string), "the delivery")
    assert.equal(requests, 2)
    assert.equal(engine.state(DELIVER_ORDER_EVENT, eventMessageId(ORDER_PLACED, order.id as string)), "done")

    const again = await deliverOrderEventWorkflow(container).run({
      input: { order_id: order.id as string, event: ORDER_PLACED },
      context: { transactionId: eventMessageId(ORDER_PLACED, order.id as string) },
    })
    assert.equal(requests, 2)
    assert.deepEqual(again.result, { result: "delivered", status: 202, attempts: 2, body: '{"status":"started"}' })
  })

  it("delivers the cancel of the same order as a transaction of its own", async () => {
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)
    await until(finished(order.id as string), "the placed event")
    Object.assign(order, { status: "canceled", canceled_at: "2026-01-01T01:00:00Z" })
    await startOrderEventDelivery(container, ORDER_CANCELED, order.id as string)

    await until(finished(order.id as string, ORDER_CANCELED), "the cancel")
    assert.equal(requests, 2)
  })

  it("sends no order.placed once the order was canceled while its delivery waited for a retry", async () => {
    replies = [{ status: 503 }]
    const transactionId = eventMessageId(ORDER_PLACED, order.id as string)
    await startOrderEventDelivery(container, ORDER_PLACED, order.id as string)
    await until(() => requests === 1, "the first attempt")
    // Staff cancel the order during the webhook's outage: a process would only be ended again.
    Object.assign(order, { status: "canceled", canceled_at: "2026-01-01T01:00:00Z" })

    await until(() => engine.state(DELIVER_ORDER_EVENT, transactionId) === "done", "the delivery to end")
    assert.equal(requests, 1)
    assert.ok(logLines.some((line) => line.includes(`order ${order.id}: order.placed not forwarded, the order was canceled`)))
  })
})
