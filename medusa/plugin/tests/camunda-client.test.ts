import assert from "node:assert/strict"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { after, before, beforeEach, describe, it } from "node:test"

import {
  CamundaClient,
  type CamundaClientConfig,
  CamundaRefused,
  CamundaRejected,
  CamundaUnavailable,
  TOKEN_RENEWAL_MARGIN_MS,
} from "../src/lib/camunda-client"

interface Seen {
  method: string
  url: string
  headers: IncomingMessage["headers"]
  body: string
}
type Reply = { status: number; body?: unknown; raw?: string }

let server: Server
let base: string
let seen: Seen[] = []
let replies: Map<string, Reply[]> = new Map()

function reply(path: string, ...answers: Reply[]): void {
  replies.set(path, answers)
}

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ""
    req.on("data", (chunk) => (body += chunk))
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
      const queue = replies.get(req.url ?? "") ?? []
      const answer = queue.length > 1 ? queue.shift()! : queue[0] ?? { status: 404, body: { title: "NOT_FOUND", detail: "no route" } }
      res.writeHead(answer.status, { "content-type": "application/json" })
      res.end(answer.raw ?? (answer.body === undefined ? "" : JSON.stringify(answer.body)))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(() => server.close())

beforeEach(() => {
  seen = []
  replies = new Map()
})

function client(overrides: Partial<CamundaClientConfig> = {}): CamundaClient {
  return new CamundaClient({ restUrl: `${base}/`, timeoutMs: 5_000, ...overrides })
}

const OAUTH = { tokenUrl: "", clientId: "plugin", clientSecret: "s3cret", audience: "zeebe-api", scope: "camunda" }

describe("CamundaClient", () => {
  it("searches the order's ACTIVE instances by its order_id variable, as the Python client does", async () => {
    reply("/v2/process-instances/search", {
      status: 200,
      body: { items: [{ processInstanceKey: "2251799813685251", state: "ACTIVE", hasIncident: true, startDate: "2026-12-05T01:00:00.000Z" }], page: {} },
    })
    const instances = await client().activeInstancesOfOrder("order_01ABC")
    assert.deepEqual(instances, [
      { processInstanceKey: "2251799813685251", state: "ACTIVE", startDate: "2026-12-05T01:00:00.000Z", hasIncident: true },
    ])
    assert.equal(seen[0].method, "POST")
    assert.deepEqual(JSON.parse(seen[0].body), {
      filter: {
        processDefinitionId: "order-fulfillment",
        state: "ACTIVE",
        variables: [{ name: "order_id", value: '"order_01ABC"' }],
      },
      sort: [{ field: "startDate", order: "DESC" }],
      page: { limit: 100 },
    })
    assert.equal(seen[0].headers.authorization, undefined)
  })

  it("searches open incidents of the given instances, and asks nothing for none", async () => {
    assert.deepEqual(await client().openIncidents([]), [])
    assert.equal(seen.length, 0)
    reply("/v2/incidents/search", {
      status: 200,
      body: {
        items: [
          {
            incidentKey: "7",
            processInstanceKey: "5",
            errorType: "JOB_NO_RETRIES",
            errorMessage: "Medusa unreachable",
            elementId: "VerifyPayment",
            creationTime: "2026-12-05T01:02:03.000Z",
            state: "ACTIVE",
            jobKey: "9",
          },
        ],
      },
    })
    const [incident] = await client().openIncidents(["5"])
    assert.equal(incident.jobKey, "9")
    assert.equal(incident.elementId, "VerifyPayment")
    assert.deepEqual(JSON.parse(seen[0].body).filter, { processInstanceKey: { $in: ["5"] }, state: "ACTIVE" })
  })

  it("gives a job retries and resolves an incident with Camunda's paths and bodies", async () => {
    reply("/v2/jobs/9", { status: 204 })
    reply("/v2/incidents/7/resolution", { status: 204 })
    await client().setJobRetries("9", 1)
    await client().resolveIncident("7")
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, JSON.parse(s.body)]),
      [
        ["PATCH", "/v2/jobs/9", { changeset: { retries: 1 } }],
        ["POST", "/v2/incidents/7/resolution", {}],
      ]
    )
  })

  it("never puts anything but digits into a path", async () => {
    await assert.rejects(client().resolveIncident("7/../../x"), TypeError)
    assert.equal(seen.length, 0)
  })

  it("tells refusals, rejections and outages apart", async () => {
    reply("/v2/incidents/1/resolution", { status: 409, body: { title: "INVALID_STATE", detail: "job has no retries" } })
    reply("/v2/incidents/2/resolution", { status: 403, body: { title: "Forbidden" } })
    reply("/v2/incidents/3/resolution", { status: 503, body: { title: "Unavailable" } })
    reply("/v2/process-instances/search", { status: 200, raw: "<html>" })
    const rejected = await client().resolveIncident("1").catch((e: unknown) => e)
    assert.ok(rejected instanceof CamundaRejected)
    assert.equal(rejected.status, 409)
    assert.equal(rejected.detail, "job has no retries")
    await assert.rejects(client().resolveIncident("2"), CamundaRefused)
    await assert.rejects(client().resolveIncident("3"), CamundaUnavailable)
    await assert.rejects(client().activeInstancesOfOrder("order_1"), CamundaUnavailable)
  })

  it("says Camunda cannot be reached when nothing listens", async () => {
    const closed = new CamundaClient({ restUrl: "http://127.0.0.1:9", timeoutMs: 2_000 })
    await assert.rejects(closed.activeInstancesOfOrder("order_1"), CamundaUnavailable)
  })

  it("takes one OAuth token with the client's audience and scope, and reuses it until shortly before it expires", async () => {
    let now = 1_000_000
    reply("/token", { status: 200, body: { access_token: "t1", expires_in: 60 } }, { status: 200, body: { access_token: "t2", expires_in: 60 } })
    reply("/v2/incidents/search", { status: 200, body: { items: [] } })
    const oauthClient = client({ oauth: { ...OAUTH, tokenUrl: `${base}/token` }, now: () => now })
    await oauthClient.openIncidents(["1"])
    await oauthClient.openIncidents(["1"])
    now += 60_000 - TOKEN_RENEWAL_MARGIN_MS
    await oauthClient.openIncidents(["1"])
    const tokens = seen.filter((s) => s.url === "/token")
    assert.equal(tokens.length, 2)
    assert.deepEqual(Object.fromEntries(new URLSearchParams(tokens[0].body)), {
      grant_type: "client_credentials",
      client_id: "plugin",
      client_secret: "s3cret",
      audience: "zeebe-api",
      scope: "camunda",
    })
    const calls = seen.filter((s) => s.url !== "/token").map((s) => s.headers.authorization)
    assert.deepEqual(calls, ["Bearer t1", "Bearer t1", "Bearer t2"])
  })

  it("refuses when the authorization server refuses the client", async () => {
    reply("/token", { status: 401, body: { error: "invalid_client" } })
    const oauthClient = client({ oauth: { ...OAUTH, tokenUrl: `${base}/token` } })
    await assert.rejects(oauthClient.openIncidents(["1"]), CamundaRefused)
    assert.equal(seen.filter((s) => s.url.startsWith("/v2")).length, 0)
  })
})
