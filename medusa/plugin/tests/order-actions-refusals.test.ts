/**
 * The restart and the incident retry against a stand-in for Camunda's REST API (a local HTTP server) and a
 * stand-in for the plugin's module: what they ask Camunda, and that a refusal changes nothing.
 */
import assert from "node:assert/strict"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { after, before, beforeEach, describe, it } from "node:test"

import type { MedusaContainer } from "@medusajs/framework/types"

import { ActionRefused, orderActions, recordRestart, retryIncident } from "../src/lib/order-actions"
import { resolveOptions } from "../src/lib/options"
import type { OrderRecord } from "../src/lib/workflow-view"

const ORDER: OrderRecord = { id: "order_01ABC", status: "pending", is_draft_order: false } as OrderRecord
const USER = "user_01OPS"

let server: Server
let camundaUrl: string
let instances: { processInstanceKey: string; state: string }[]
let incidents: Record<string, unknown>[]
let seen: { method: string; url: string; body: string }[]

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ""
    req.on("data", (chunk) => (body += chunk))
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body })
      const items = req.url === "/v2/process-instances/search" ? instances : req.url === "/v2/incidents/search" ? incidents : null
      res.writeHead(items ? 200 : 204, { "content-type": "application/json" })
      res.end(items ? JSON.stringify({ items, page: {} }) : "")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  camundaUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(() => server.close())

beforeEach(() => {
  instances = []
  incidents = []
  seen = []
})

interface Stored {
  status: string | null
  instance_key: string | null
  version: number
}

/** The plugin's module and the order module, as far as the actions use them; records every write. */
function container(camunda: Record<string, unknown> | undefined, stored: Stored | null, restartApplies = true) {
  const writes: string[] = []
  const options = resolveOptions(camunda ? { camunda } : {})
  const module = {
    getOptions: () => options,
    statesOf: async () => (stored ? [{ order_id: ORDER.id, mail: {}, ...stored }] : []),
    recordRestart: async (_id: string, version: number, record: { by: string; reason: string; at: string }) => {
      writes.push(`restart v${version} by ${record.by}: ${record.reason}`)
      return restartApplies
        ? { order_id: ORDER.id, status: null, mail: {}, version: version + 1, last_restart: { number: 1, ...record } }
        : null
    },
    recordRetry: async (_id: string, record: { incident_key: string; by: string }) => {
      writes.push(`retry ${record.incident_key} by ${record.by}`)
    },
    retrieveUser: async () => ({ email: "ops@shop.test" }),
    updateOrders: async () => writes.push("mirror"),
  }
  const scope = { resolve: () => module } as unknown as MedusaContainer
  return { scope, writes }
}

async function refusal(action: Promise<unknown>): Promise<ActionRefused> {
  const error = await action.catch((e: unknown) => e)
  assert.ok(error instanceof ActionRefused, `expected a refusal, got ${String(error)}`)
  return error
}

describe("restart", () => {
  it("records the restart at the row's version when Camunda shows no ACTIVE instance", async () => {
    const { scope, writes } = container({ restUrl: camundaUrl }, { status: "payment_verified", instance_key: "5", version: 3 })
    const record = await recordRestart(scope, ORDER, USER, "lost with the cluster")
    assert.equal(record.number, 1)
    assert.equal(writes[0], `restart v3 by ${USER}: lost with the cluster`)
    assert.ok(writes.slice(1).length > 0 && writes.slice(1).every((write) => write === "mirror"), writes.join("; "))
    const [search] = seen
    assert.equal(search.url, "/v2/process-instances/search")
    assert.equal(JSON.parse(search.body).filter.state, "ACTIVE")
  })

  it("refuses while an instance runs, naming it, and writes nothing", async () => {
    instances = [{ processInstanceKey: "2251799813685251", state: "ACTIVE" }]
    const { scope, writes } = container({ restUrl: camundaUrl }, null)
    const refused = await refusal(recordRestart(scope, ORDER, USER, "why not"))
    assert.equal(refused.status, 409)
    assert.match(refused.message, /2251799813685251\) still runs/)
    assert.deepEqual(writes, [])
  })

  it("refuses when Camunda is not configured or cannot be reached, and writes nothing", async () => {
    for (const camunda of [undefined, { restUrl: "http://127.0.0.1:9", timeoutMs: 2_000 }]) {
      const { scope, writes } = container(camunda, null)
      const refused = await refusal(recordRestart(scope, ORDER, USER, "why not"))
      assert.equal(refused.status, 503)
      assert.match(refused.message, /^Camunda cannot be (asked|reached).*Nothing was restarted\.$/)
      assert.deepEqual(writes, [])
    }
  })

  it("refuses an ended process without asking Camunda", async () => {
    const { scope, writes } = container({ restUrl: camundaUrl }, { status: "completed", instance_key: "5", version: 4 })
    const refused = await refusal(recordRestart(scope, ORDER, USER, "again"))
    assert.equal(refused.status, 409)
    assert.deepEqual([seen, writes], [[], []])
  })

  it("refuses when the row changed between the read and the write", async () => {
    const { scope, writes } = container({ restUrl: camundaUrl }, null, false)
    const refused = await refusal(recordRestart(scope, ORDER, USER, "twice"))
    assert.equal(refused.status, 409)
    assert.match(refused.message, /changed meanwhile/)
    assert.deepEqual(writes, [`restart v0 by ${USER}: twice`])
  })
})

describe("incident retry", () => {
  const incident = {
    incidentKey: "77",
    processInstanceKey: "5",
    errorType: "JOB_NO_RETRIES",
    errorMessage: "Medusa unreachable",
    elementId: "VerifyPayment",
    creationTime: "2026-12-05T01:00:00.000Z",
    state: "ACTIVE",
    jobKey: "99",
  }

  it("gives the job one retry, resolves the incident, then records who retried it", async () => {
    incidents = [incident]
    const { scope, writes } = container({ restUrl: camundaUrl }, { status: "started", instance_key: "5", version: 1 })
    const record = await retryIncident(scope, ORDER.id, "77", USER)
    assert.equal(record.element_id, "VerifyPayment")
    const commands = seen.filter((s) => !s.url.endsWith("/search")).map((s) => `${s.method} ${s.url} ${s.body}`)
    assert.deepEqual(commands, ['PATCH /v2/jobs/99 {"changeset":{"retries":1}}', "POST /v2/incidents/77/resolution {}"])
    assert.deepEqual(writes, [`retry 77 by ${USER}`])
  })

  it("refuses an incident that is not the order's, changing nothing", async () => {
    incidents = [incident]
    const { scope, writes } = container({ restUrl: camundaUrl }, { status: "started", instance_key: "5", version: 1 })
    const refused = await refusal(retryIncident(scope, ORDER.id, "78", USER))
    assert.equal(refused.status, 404)
    assert.equal(seen.filter((s) => !s.url.endsWith("/search")).length, 0)
    assert.deepEqual(writes, [])
  })
})

describe("the actions' view", () => {
  it("shows the incidents of the stored instance and of the order's ACTIVE ones, and offers no restart while one runs", async () => {
    instances = [{ processInstanceKey: "6", state: "ACTIVE" }]
    incidents = [{ incidentKey: "1", processInstanceKey: "6", errorType: "CONDITION_ERROR", errorMessage: "", elementId: "PaymentSettled", creationTime: null, state: "ACTIVE", jobKey: null }]
    const { scope } = container({ restUrl: camundaUrl }, { status: "started", instance_key: "5", version: 1 })
    const answer = await orderActions(scope, ORDER)
    assert.deepEqual(JSON.parse(seen[1].body).filter.processInstanceKey, { $in: ["6", "5"] })
    assert.equal(answer.incidents[0].message, "CONDITION_ERROR")
    assert.equal(answer.restart.offer, "hidden")
    assert.equal(answer.camunda_problem, null)
  })

  it("says in a sentence why Camunda could not be asked", async () => {
    const { scope } = container(undefined, null)
    const answer = await orderActions(scope, ORDER)
    assert.match(answer.camunda_problem ?? "", /not configured the plugin's Camunda client/)
    assert.equal(answer.restart.offer, "hidden")
  })
})
