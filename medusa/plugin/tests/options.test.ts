import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { PluginOptionsError, resolveOptions, webhookTarget } from "../src/lib/options"

const SECRET = "whsec_" + Buffer.from("a test secret of thirty-two byte").toString("base64")
const NEXT = "whsec_" + Buffer.from("the next secret, thirty-two byte").toString("base64")

function refusal(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    resolveOptions(raw, env)
  } catch (error) {
    assert.ok(error instanceof PluginOptionsError)
    return error.message
  }
  assert.fail("the options were accepted")
}

describe("resolveOptions", () => {
  it("works with empty options and no environment: delivery off, safe defaults", () => {
    const options = resolveOptions({}, {})
    assert.equal(webhookTarget(options), null)
    assert.deepEqual(options.retry, { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 60_000, timeoutMs: 10_000 })
    assert.equal(options.reconciliation.enabled, true)
    assert.equal(options.emitOrderUpdated, false)
  })

  it("falls back to today's environment variables", () => {
    const options = resolveOptions(
      {},
      {
        ORDER_WEBHOOK_URL: "https://hooks.example.com/order",
        ORDER_WEBHOOK_SECRET: `${NEXT}, ${SECRET}`,
        ORDER_WEBHOOK_MAX_ATTEMPTS: "3",
        ORDER_WEBHOOK_RECONCILE_INTERVAL_MS: "2000",
        CAMUNDA_OPERATE_URL: "https://operate.example.com",
        ORDER_WORKFLOW_STALLED_AFTER_MINUTES: "45",
        ORDER_WORKFLOW_EMIT_ORDER_UPDATED: "true",
      }
    )
    assert.deepEqual(webhookTarget(options), { url: "https://hooks.example.com/order", secrets: [NEXT, SECRET] })
    assert.equal(options.retry.maxAttempts, 3)
    assert.equal(options.reconciliation.intervalMs, 2_000)
    assert.equal(options.operateUrl, "https://operate.example.com")
    assert.equal(options.stalledAfterMinutes, 45)
    assert.equal(options.emitOrderUpdated, true)
  })

  it("lets options win over the environment, field by field", () => {
    const options = resolveOptions(
      { webhookSecret: [SECRET], retry: { maxAttempts: 2 } },
      { ORDER_WEBHOOK_SECRET: NEXT, ORDER_WEBHOOK_RETRY_BASE_MS: "50" }
    )
    assert.deepEqual(options.webhookSecret, [SECRET])
    assert.equal(options.retry.maxAttempts, 2)
    assert.equal(options.retry.baseDelayMs, 50)
  })

  it("keeps the old meaning of a reconciliation interval of 0: the job is off", () => {
    assert.equal(resolveOptions({}, { ORDER_WEBHOOK_RECONCILE_INTERVAL_MS: "0" }).reconciliation.enabled, false)
  })

  it("names the bad option and its environment variable, never the value", () => {
    assert.match(refusal({ retry: { maxAttempts: 0 } }), /invalid option retry\.maxAttempts \(or ORDER_WEBHOOK_MAX_ATTEMPTS\)/)
    assert.match(refusal({}, { ORDER_WEBHOOK_RETRY_BASE_MS: "soon" }), /retry\.baseDelayMs \(or ORDER_WEBHOOK_RETRY_BASE_MS\)/)
    assert.match(refusal({ webhookUrl: "not a url" }), /invalid option webhookUrl/)
    assert.match(refusal({ operateUrl: 42 }), /invalid option operateUrl \(or CAMUNDA_OPERATE_URL\)/)
    assert.match(refusal({ reconciliation: { minAgeMs: 10, lookbackMs: 5 } }), /reconciliation\.minAgeMs/)
    assert.match(refusal({ webhookUrlTypo: "x" }), /invalid option options/)
    const secretRefusal = refusal({ webhookSecret: [SECRET, "plain-password"] })
    assert.match(secretRefusal, /invalid option webhookSecret \(or ORDER_WEBHOOK_SECRET\)/)
    assert.doesNotMatch(secretRefusal, /plain-password/)
    const short = "whsec_" + Buffer.from("sixteen byte key").toString("base64")
    assert.match(refusal({ webhookSecret: short }), /webhookSecret .*at least 24 bytes/)
  })
})
