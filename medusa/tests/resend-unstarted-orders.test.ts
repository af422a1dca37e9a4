import assert from "node:assert/strict"
import { createServer, IncomingMessage } from "node:http"
import { AddressInfo } from "node:net"
import { describe, it } from "node:test"

import type { MedusaContainer } from "@medusajs/framework/types"

import resendUnstartedOrders, { reconcileSettingsFromEnv } from "../src/jobs/resend-unstarted-orders"

/** The order webhook's default ORDER_MESSAGE_TTL_SECONDS (fulfillment/engine.py), in milliseconds. */
const DEFAULT_MESSAGE_TTL_MS = 3_600_000

describe("reconcileSettingsFromEnv", () => {
  it("resends only orders whose first message Zeebe still buffers, so a resend never starts a second process", () => {
    const settings = reconcileSettingsFromEnv({})
    assert.ok(settings.lookbackMs < DEFAULT_MESSAGE_TTL_MS, `lookback ${settings.lookbackMs} ms`)
    assert.ok(settings.minAgeMs < settings.lookbackMs)
  })

  it("reads the settings from the environment and keeps the defaults for invalid values", () => {
    const settings = reconcileSettingsFromEnv({
      ORDER_WEBHOOK_RECONCILE_INTERVAL_MS: "0",
      ORDER_WEBHOOK_RECONCILE_MIN_AGE_MS: "5000",
      ORDER_WEBHOOK_RECONCILE_LOOKBACK_MS: "soon",
    })
    assert.deepEqual(settings, {
      intervalMs: 0,
      minAgeMs: 5_000,
      lookbackMs: reconcileSettingsFromEnv({}).lookbackMs,
    })
  })
})

describe("resendUnstartedOrders", () => {
  it("resends orders without workflow_status, but none that became older than the lookback meanwhile", async () => {
    const received: string[] = []
    const server = createServer((request: IncomingMessage, response) => {
      request.resume()
      received.push(String(request.headers["webhook-id"]))
      response.writeHead(202, { "content-type": "application/json" }).end("{}")
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { lookbackMs } = reconcileSettingsFromEnv({})
    const now = Date.now()
    // As the query answered at the start of a run that took long: the first order has aged past the lookback.
    const orders = [
      { id: "order_TOO_OLD", created_at: new Date(now - lookbackMs - 1_000), metadata: null },
      { id: "order_UNSTARTED", created_at: new Date(now - lookbackMs / 2), metadata: {} },
      { id: "order_STARTED", created_at: new Date(now - lookbackMs / 2), metadata: { workflow_status: "started" } },
    ]
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined }
    const query = { graph: async () => ({ data: orders }) }
    const container = { resolve: (key: string) => (key === "query" ? query : silent) } as unknown as MedusaContainer
    process.env.ORDER_WEBHOOK_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    process.env.ORDER_WEBHOOK_SECRET = "whsec_" + Buffer.from("a test secret of thirty-two byte").toString("base64")
    try {
      await resendUnstartedOrders(container)
    } finally {
      delete process.env.ORDER_WEBHOOK_URL
      delete process.env.ORDER_WEBHOOK_SECRET
      server.close()
    }

    assert.deepEqual(received, ["msg_order_placed_order_UNSTARTED"])
  })
})
