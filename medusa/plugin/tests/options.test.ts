import assert from "node:assert/strict"
import { afterEach, beforeEach, describe, it } from "node:test"

import { callerSecrets, disabledRoutes, PluginOptionsError, resolveOptions, webhookTarget } from "../src/lib/options"

const SECRET = "whsec_" + Buffer.from("a test secret of thirty-two byte").toString("base64")
const NEXT = "whsec_" + Buffer.from("the next secret, thirty-two byte").toString("base64")

function refusal(raw: unknown): string {
  try {
    resolveOptions(raw)
  } catch (error) {
    assert.ok(error instanceof PluginOptionsError)
    return error.message
  }
  assert.fail("the options were accepted")
}

describe("resolveOptions", () => {
  it("works with empty options: delivery off, signed routes closed, safe defaults", () => {
    const options = resolveOptions({})
    assert.equal(webhookTarget(options), null)
    assert.deepEqual(callerSecrets(options, "worker"), [])
    assert.deepEqual(callerSecrets(options, "status"), [])
    assert.deepEqual(options.retry, { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 60_000, timeoutMs: 10_000 })
    assert.equal(options.reconciliation.enabled, true)
    assert.equal(options.emitOrderUpdated, false)
  })

  it("takes each caller's secrets, one or a list, as given", () => {
    const options = resolveOptions({
      webhookUrl: "https://hooks.example.com/order",
      webhookSecret: `${NEXT}, ${SECRET}`,
      workerSecret: [NEXT, SECRET],
      statusSecret: SECRET,
      retry: { maxAttempts: "3" },
    })
    assert.deepEqual(webhookTarget(options), { url: "https://hooks.example.com/order", secrets: [NEXT, SECRET] })
    assert.deepEqual(callerSecrets(options, "worker"), [NEXT, SECRET])
    assert.deepEqual(callerSecrets(options, "status"), [SECRET])
    assert.equal(options.retry.maxAttempts, 3)
    assert.equal(options.retry.baseDelayMs, 1_000)
  })

  it("treats an option passed as an unset or empty variable as not set", () => {
    const options = resolveOptions({ webhookUrl: undefined, workerSecret: "", retry: { maxAttempts: "" } })
    assert.equal(options.webhookUrl, undefined)
    assert.deepEqual(callerSecrets(options, "worker"), [])
    assert.equal(options.retry.maxAttempts, 10)
  })

  it("names the bad option, never the value", () => {
    assert.match(refusal({ retry: { maxAttempts: 0 } }), /invalid option retry\.maxAttempts: /)
    assert.match(refusal({ retry: { baseDelayMs: "soon" } }), /invalid option retry\.baseDelayMs: /)
    assert.match(refusal({ webhookUrl: "not a url" }), /invalid option webhookUrl/)
    assert.match(refusal({ operateUrl: 42 }), /invalid option operateUrl: /)
    assert.match(refusal({ reconciliation: { minAgeMs: 10, lookbackMs: 5 } }), /reconciliation\.minAgeMs/)
    assert.match(refusal({ webhookUrlTypo: "x" }), /invalid option options/)
    for (const option of ["webhookSecret", "workerSecret", "statusSecret"]) {
      const secretRefusal = refusal({ [option]: [SECRET, "plain-password"] })
      assert.match(secretRefusal, new RegExp(`invalid option ${option}: must be a whsec_`))
      assert.doesNotMatch(secretRefusal, /plain-password/)
    }
    const short = "whsec_" + Buffer.from("sixteen byte key").toString("base64")
    assert.match(refusal({ workerSecret: short }), /workerSecret: .*at least 24 bytes/)
  })
})

describe("the plugin reads no environment", () => {
  const saved = { ...process.env }
  beforeEach(() => {
    process.env.ORDER_WEBHOOK_URL = "https://from-the-environment.example.com"
    process.env.ORDER_WEBHOOK_SECRET = SECRET
    process.env.MEDUSA_WORKER_SECRET = SECRET
    process.env.MEDUSA_STATUS_SECRET = SECRET
    process.env.ORDER_WEBHOOK_MAX_ATTEMPTS = "3"
    process.env.CAMUNDA_OPERATE_URL = "https://operate.example.com"
  })
  afterEach(() => {
    process.env = { ...saved }
  })

  it("resolves empty options to the defaults whatever the environment holds", () => {
    const options = resolveOptions({})
    assert.equal(webhookTarget(options), null)
    assert.deepEqual(callerSecrets(options, "worker"), [])
    assert.deepEqual(callerSecrets(options, "status"), [])
    assert.equal(options.retry.maxAttempts, 10)
    assert.equal(options.operateUrl, undefined)
  })
})

describe("disabledRoutes", () => {
  it("names each caller's option and routes when its secret is unset", () => {
    const lines = disabledRoutes(resolveOptions({ statusSecret: SECRET }))
    assert.equal(lines.length, 1)
    assert.match(lines[0], /option workerSecret is not set: .*\/view and .*\/cancel accept no request \(401\)/)
    assert.deepEqual(disabledRoutes(resolveOptions({ statusSecret: SECRET, workerSecret: NEXT })), [])
    assert.equal(disabledRoutes(resolveOptions({})).length, 2)
  })
})
