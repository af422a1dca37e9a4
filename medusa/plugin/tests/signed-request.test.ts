import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { Webhook } from "standardwebhooks"

import { CancelBodySchema, ViewBodySchema } from "../src/lib/route-bodies"
import { checkRouteBody, type HeaderValue, verifySignature } from "../src/lib/signed-request"

const secret = (text: string) => "whsec_" + Buffer.from(text.padEnd(32, ".")).toString("base64")
const WORKER = secret("the worker's secret")
const WORKER_NEXT = secret("the worker's next secret")
const STATUS = secret("the status function's secret")

const BODY = Buffer.from(JSON.stringify({ action: "view", order_id: "order_01ABC" }))

function signed(body: Buffer, by: string[], at = new Date(), id = "msg_1"): Record<string, HeaderValue> {
  return {
    "webhook-id": id,
    "webhook-timestamp": Math.floor(at.getTime() / 1000).toString(),
    "webhook-signature": by.map((key) => new Webhook(key).sign(id, at, body.toString())).join(" "),
  }
}

describe("verifySignature", () => {
  it("accepts the route's caller's signature over the exact bytes", () => {
    assert.deepEqual(verifySignature(BODY, signed(BODY, [WORKER]), [WORKER]), { ok: true })
  })

  it("refuses another caller's secret", () => {
    assert.equal(verifySignature(BODY, signed(BODY, [STATUS]), [WORKER]).ok, false)
  })

  it("refuses a body changed after signing, even by one byte", () => {
    const headers = signed(BODY, [WORKER])
    const changed = Buffer.from(BODY.toString().replace("order_01ABC", "order_01ABD"))
    assert.equal(verifySignature(changed, headers, [WORKER]).ok, false)
  })

  it("accepts either secret during a rotation, on both sides", () => {
    // The plugin lists both: a caller still signing with the old secret, or already with the new one, passes.
    assert.equal(verifySignature(BODY, signed(BODY, [WORKER]), [WORKER_NEXT, WORKER]).ok, true)
    assert.equal(verifySignature(BODY, signed(BODY, [WORKER_NEXT]), [WORKER_NEXT, WORKER]).ok, true)
    // A caller signing with both, while the plugin knows only one of them.
    assert.equal(verifySignature(BODY, signed(BODY, [WORKER_NEXT, WORKER]), [WORKER]).ok, true)
    // Once the old secret is dropped, a caller still using it is refused.
    assert.equal(verifySignature(BODY, signed(BODY, [WORKER]), [WORKER_NEXT]).ok, false)
  })

  it("refuses a timestamp outside the 5-minute tolerance", () => {
    const sixMinutes = 6 * 60_000
    const old = signed(BODY, [WORKER], new Date(Date.now() - sixMinutes))
    const future = signed(BODY, [WORKER], new Date(Date.now() + sixMinutes))
    assert.deepEqual(verifySignature(BODY, old, [WORKER]), { ok: false, problem: "Message timestamp too old" })
    assert.deepEqual(verifySignature(BODY, future, [WORKER]), { ok: false, problem: "Message timestamp too new" })
    assert.equal(verifySignature(BODY, signed(BODY, [WORKER], new Date(Date.now() - 60_000)), [WORKER]).ok, true)
  })

  it("refuses missing or repeated headers and an unreadable signature", () => {
    const headers = signed(BODY, [WORKER])
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      assert.equal(verifySignature(BODY, { ...headers, [name]: undefined }, [WORKER]).ok, false, name)
      const repeated = [headers[name] as string, headers[name] as string]
      assert.equal(verifySignature(BODY, { ...headers, [name]: repeated }, [WORKER]).ok, false, name)
    }
    assert.equal(verifySignature(BODY, { ...headers, "webhook-signature": "v1,garbage" }, [WORKER]).ok, false)
    assert.equal(verifySignature(BODY, { ...headers, "webhook-timestamp": "soon" }, [WORKER]).ok, false)
  })

  it("refuses everyone when the route has no secret configured", () => {
    assert.deepEqual(verifySignature(BODY, signed(BODY, [WORKER]), []), {
      ok: false,
      problem: "the route has no secret configured",
    })
  })

  it("refuses a body Medusa did not keep (a type its parsers do not read)", () => {
    assert.equal(verifySignature(undefined, signed(BODY, [WORKER]), [WORKER]).ok, false)
  })
})

describe("checkRouteBody", () => {
  it("accepts a body naming the route's action and the path's order", () => {
    const check = checkRouteBody(ViewBodySchema, { action: "view", order_id: "order_01ABC" }, "order_01ABC")
    assert.deepEqual(check, { ok: true, body: { action: "view", order_id: "order_01ABC" } })
  })

  it("refuses a body signed for another order (a replay against another path)", () => {
    const check = checkRouteBody(ViewBodySchema, { action: "view", order_id: "order_01ABC" }, "order_01XYZ")
    assert.equal(check.ok, false)
  })

  it("refuses a body signed for another route", () => {
    const check = checkRouteBody(CancelBodySchema, { action: "view", order_id: "order_01ABC" }, "order_01ABC")
    assert.equal(check.ok, false)
    assert.match(check.ok ? "" : check.message, /action/)
  })

  it("refuses unknown fields and an order id that is not Medusa's", () => {
    assert.equal(checkRouteBody(ViewBodySchema, { action: "view", order_id: "order_1", x: 1 }, "order_1").ok, false)
    assert.equal(checkRouteBody(ViewBodySchema, { action: "view", order_id: "cart_1" }, "cart_1").ok, false)
    assert.equal(checkRouteBody(ViewBodySchema, "view order_1", "order_1").ok, false)
  })
})
