import assert from "node:assert/strict"
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http"
import { AddressInfo } from "node:net"
import { after, before, beforeEach, describe, it } from "node:test"

import { Webhook } from "standardwebhooks"

import {
  attemptDelivery,
  type DeliveryOutcome,
  MIN_RETRY_INTERVAL_MS,
  retryIntervalMs,
  type RetryPolicy,
  type SenderLogger,
  type SenderOptions,
  type WebhookEvent,
} from "../src/lib/webhook-sender"

const SECRET = "whsec_" + Buffer.from("a test secret of thirty-two byte").toString("base64")
// A generous per-attempt timeout: a busy machine must not turn a prompt answer into a timeout.
const FAST: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 5_000 }

type Reply = { status: number; headers?: Record<string, string>; delayMs?: number }
interface Received {
  headers: IncomingMessage["headers"]
  body: string
}

let server: Server
let url: string
let replies: Reply[] = []
let received: Received[] = []

function recordingLogger(): SenderLogger & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  }
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  let body = ""
  request.on("data", (chunk) => (body += chunk))
  request.on("end", () => {
    received.push({ headers: request.headers, body })
    const reply = replies.shift() ?? { status: 202 }
    setTimeout(() => {
      response.writeHead(reply.status, reply.headers ?? {})
      response.end(JSON.stringify({ status: reply.status }))
    }, reply.delayMs ?? 0)
  })
}

/** Runs attempts the way the workflow engine's retries of the delivery step do (without the waits). */
async function sendWebhook(webhook: WebhookEvent, options: SenderOptions): Promise<DeliveryOutcome> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptDelivery(webhook, attempt, options)
    if (outcome.result !== "retry") {
      return outcome
    }
  }
}

const event = {
  id: "msg_order_placed_order_01TEST",
  payload: { type: "order.placed", occurred_at: "2026-01-01T00:00:00.000Z", data: { id: "order_01TEST" } },
}

describe("sendWebhook", () => {
  before(async () => {
    server = createServer(handle)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })
  beforeEach(() => {
    replies = []
    received = []
  })

  it("sends a body the receiver can verify with the shared secret", async () => {
    const logger = recordingLogger()
    const outcome = await sendWebhook(event, { url, secrets: [SECRET], retry: FAST, logger })
    assert.deepEqual(outcome, { result: "delivered", status: 202, attempts: 1, body: `{"status":202}` })
    const [request] = received
    const verified = new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>)
    assert.deepEqual(verified, event.payload)
    assert.equal(request.headers["webhook-id"], event.id)
    assert.match(logger.lines[0], /^info .*delivered/)
  })

  it("signs with every secret during a rotation, so a receiver knowing either one accepts it", async () => {
    const next = "whsec_" + Buffer.from("the next secret, thirty-two byte").toString("base64")
    await sendWebhook(event, { url, secrets: [next, SECRET], retry: FAST, logger: recordingLogger() })
    const [request] = received
    for (const secret of [next, SECRET]) {
      assert.deepEqual(new Webhook(secret).verify(request.body, request.headers as Record<string, string>), event.payload)
    }
  })

  it("retries 5xx and 429 with the same webhook-id and body, signing each attempt", async () => {
    replies = [{ status: 503 }, { status: 429 }, { status: 500 }]
    const outcome = await sendWebhook(event, { url, secrets: [SECRET], retry: FAST, logger: recordingLogger() })
    assert.deepEqual(outcome, { result: "delivered", status: 202, attempts: 4, body: `{"status":202}` })
    assert.equal(new Set(received.map((r) => r.headers["webhook-id"])).size, 1)
    assert.equal(new Set(received.map((r) => r.body)).size, 1)
    for (const request of received) {
      new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>)
    }
  })

  it("does not retry other 4xx and logs them as permanent", async () => {
    replies = [{ status: 422 }]
    const logger = recordingLogger()
    const outcome = await sendWebhook(event, { url, secrets: [SECRET], retry: FAST, logger })
    assert.equal(outcome.result, "rejected")
    assert.equal(received.length, 1)
    assert.match(logger.lines.at(-1) ?? "", /^error .*permanently rejected with HTTP 422/)
  })

  it("does not follow redirects: a redirected webhook URL is a permanent failure", async () => {
    replies = [{ status: 308, headers: { location: "http://127.0.0.1:9/elsewhere" } }]
    const outcome = await sendWebhook(event, { url, secrets: [SECRET], retry: FAST, logger: recordingLogger() })
    assert.equal(outcome.result, "rejected")
    assert.equal(received.length, 1)
  })

  it("aborts an attempt that takes longer than the timeout and retries it", async () => {
    replies = [{ status: 202, delayMs: 3_000 }]
    const logger = recordingLogger()
    const retry = { ...FAST, timeoutMs: 300 }
    const outcome = await sendWebhook(event, { url, secrets: [SECRET], retry, logger })
    assert.equal(outcome.result, "delivered")
    assert.ok(outcome.attempts >= 2)
    assert.match(logger.lines[0], /no answer within 300 ms/)
  })

  it("gives up after the last attempt on network errors", async () => {
    const logger = recordingLogger()
    const outcome = await sendWebhook(event, {
      url: "http://127.0.0.1:9/",
      secrets: [SECRET],
      retry: FAST,
      logger,
    })
    assert.equal(outcome.result, "gave_up")
    assert.equal(outcome.attempts, FAST.maxAttempts)
    assert.match(logger.lines.at(-1) ?? "", /^error .*gave up after 4 attempts/)
  })

  it("says in the log when the next attempt comes", async () => {
    replies = [{ status: 503 }]
    const logger = recordingLogger()
    const retry = { ...FAST, baseDelayMs: 2_000, maxDelayMs: 2_000 }
    await sendWebhook(event, { url, secrets: [SECRET], retry, logger })
    assert.match(logger.lines[0], /^warn .*attempt 1\/4 failed \(HTTP 503\); retrying in 2 s$/)
  })
})

describe("retryIntervalMs", () => {
  it("spreads the attempts over the time the doubling backoff would take: 27 s apart with the defaults", () => {
    const defaults = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 60_000 }
    // 1 + 2 + 4 + 8 + 16 + 32 + 60 + 60 + 60 s = 243 s for 9 retries.
    assert.equal(retryIntervalMs(defaults), 27_000)
  })

  it("tends to the maximum delay when most retries would wait that long", () => {
    assert.equal(retryIntervalMs({ maxAttempts: 100, baseDelayMs: 1_000, maxDelayMs: 60_000 }), 57_000)
  })

  it("never retries sooner than the engine's minimum, also with a single attempt", () => {
    assert.equal(retryIntervalMs({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 50 }), MIN_RETRY_INTERVAL_MS)
    assert.equal(retryIntervalMs({ maxAttempts: 1, baseDelayMs: 1_000, maxDelayMs: 60_000 }), MIN_RETRY_INTERVAL_MS)
  })
})
