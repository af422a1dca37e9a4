import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { moneyOutcome, paymentSums } from "../src/lib/money"

describe("paymentSums", () => {
  it("adds the captured and refunded amounts of all collections, missing ones as zero", () => {
    const sums = paymentSums([
      { captured_amount: 30, refunded_amount: 10 },
      { captured_amount: "5.5", refunded_amount: null },
      { captured_amount: { numeric: 0.1 }, refunded_amount: 0.2 },
      {},
    ])
    assert.deepEqual(sums, { captured_amount: 35.6, refunded_amount: 10.2 })
    assert.deepEqual(paymentSums(null), { captured_amount: 0, refunded_amount: 0 })
  })
})

describe("moneyOutcome", () => {
  it("says nothing was taken when nothing was captured (an authorization is released by the cancel)", () => {
    assert.deepEqual(moneyOutcome({ captured_amount: 0, refunded_amount: 0 }), {
      outcome: "nothing_taken",
      captured_amount: 0,
      refunded_amount: 0,
    })
  })

  it("says refunded in full when every captured cent came back", () => {
    assert.equal(moneyOutcome({ captured_amount: 30, refunded_amount: 30 }).outcome, "refunded_in_full")
    assert.equal(moneyOutcome(paymentSums([{ captured_amount: 0.1 }, { captured_amount: 0.2, refunded_amount: 0.3 }])).outcome, "refunded_in_full")
  })

  it("says partly refunded for anything between", () => {
    assert.equal(moneyOutcome({ captured_amount: 30, refunded_amount: 10 }).outcome, "partly_refunded")
    assert.equal(moneyOutcome({ captured_amount: 30, refunded_amount: 0 }).outcome, "partly_refunded")
    assert.equal(moneyOutcome({ captured_amount: 30, refunded_amount: 29.99 }).outcome, "partly_refunded")
  })
})
