/**
 * POST /admin/fulfillment-workflow/orders/{id}/resend against stand-ins for Medusa's Query and the plugin's
 * module, and a local HTTP server as the order webhook: a closed order is refused before anything is sent.
 */
import "./support/registered-options"

import assert from "node:assert/strict"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { after, before, beforeEach, describe, it } from "node:test"

import { asValue } from "@medusajs/framework/awilix"
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, createMedusaContainer } from "@medusajs/framework/utils"

import { POST } from "../src/api/admin/fulfillment-workflow/orders/[id]/resend/route"
import { resolveOptions } from "../src/lib/options"
import { FULFILLMENT_WORKFLOW_MODULE } from "../src/modules/fulfillment-workflow"
import { REGISTERED } from "./support/registered-options"
import { WorkflowEngineDouble } from "./support/workflow-engine-double"

let server: Server
let url: string
let requests: number

/** Query answers `order` on the first read and `later` (when given) on every read after it. */
function containerWith(order: Record<string, unknown>, later = order): MedusaContainer {
  const options = resolveOptions({ ...REGISTERED, webhookUrl: url })
  const quiet = () => undefined
  let reads = 0
  const container = createMedusaContainer()
  container.register({
    [ContainerRegistrationKeys.LOGGER]: asValue({ info: quiet, warn: quiet, error: quiet }),
    [ContainerRegistrationKeys.QUERY]: asValue({ graph: async () => ({ data: [reads++ === 0 ? order : later] }) }),
    [FULFILLMENT_WORKFLOW_MODULE]: asValue({ getOptions: () => options, statesOf: async () => [] }),
  })
  return container
}

async function resend(
  order: Record<string, unknown>,
  later = order
): Promise<{ status: number; body: Record<string, unknown> }> {
  const container = containerWith(order, later)
  const engine = new WorkflowEngineDouble(container)
  const answer = { status: 200, body: {} as Record<string, unknown> }
  const res = {
    status(code: number) {
      answer.status = code
      return res
    },
    json(body: Record<string, unknown>) {
      answer.body = body
      return res
    },
  }
  const req = { scope: container, params: { id: order.id } } as unknown as AuthenticatedMedusaRequest
  try {
    await POST(req, res as unknown as MedusaResponse)
  } finally {
    engine.close()
  }
  return answer
}

const OPEN = { id: "order_01OPEN", display_id: 7, status: "pending", created_at: "2026-01-01T00:00:00Z", total: 10 }

describe("the admin's resend route", () => {
  before(async () => {
    server = createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        requests++
        res.writeHead(202).end(JSON.stringify({ status: "started" }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  after(() => server.close())
  beforeEach(() => {
    requests = 0
  })

  it("sends an open order's order.placed and answers with the webhook's status", async () => {
    const answer = await resend(OPEN)
    assert.deepEqual(answer, { status: 200, body: { order_id: OPEN.id, status: "started" } })
    assert.equal(requests, 1)
  })

  it("refuses a canceled order with 409, saying why and what to do, and sends nothing", async () => {
    const answer = await resend({ ...OPEN, status: "canceled" })
    assert.equal(answer.status, 409)
    assert.equal(answer.body.type, "resend_refused")
    assert.match(String(answer.body.message), /canceled, so it gets no fulfillment process/)
    assert.match(String(answer.body.message), /create a new order/)
    assert.match(String(answer.body.message), /Nothing was sent\.$/)
    assert.equal(requests, 0)
  })

  it("answers 409 and sends nothing when the order is canceled between the route's check and the send", async () => {
    const answer = await resend(OPEN, { ...OPEN, status: "canceled" })
    assert.equal(answer.status, 409)
    assert.equal(answer.body.type, "resend_refused")
    assert.match(String(answer.body.message), /It was canceled while the resend was being sent: nothing was sent\.$/)
    assert.equal(requests, 0)
  })

  it("refuses a draft or an archived order the same way", async () => {
    for (const closed of [{ status: "draft", is_draft_order: true }, { status: "archived" }]) {
      const answer = await resend({ ...OPEN, ...closed })
      assert.equal(answer.status, 409, closed.status)
      assert.match(String(answer.body.message), new RegExp(closed.status === "draft" ? "draft order" : "archived"))
    }
    assert.equal(requests, 0)
  })
})
