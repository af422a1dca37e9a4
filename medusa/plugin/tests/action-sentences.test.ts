import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { elementWords, incidentSentence, restartSentence, retrySentence } from "../src/admin/lib/action-sentences"

const NOW = Date.parse("2026-12-05T03:00:00Z")
const TZ = "Europe/Berlin"

describe("the order actions' sentences", () => {
  it("name a BPMN element in words", () => {
    assert.equal(elementWords("VerifyPayment"), "Verify payment")
    assert.equal(elementWords("reserve-inventory"), "Reserve inventory")
    assert.equal(elementWords(null), "an unnamed step")
  })

  it("say who restarted, when, why and how far the lost process had come", () => {
    const record = {
      number: 2,
      by: "user_01",
      by_email: "ops@shop.test",
      reason: "canceled in Operate by mistake",
      at: "2026-12-05T01:40:00Z",
      previous_status: "payment_verified",
      previous_instance: "2251799813685251",
    }
    assert.equal(
      restartSentence(record, NOW, TZ),
      "Restarted on 5 Dec, 02:40 by ops@shop.test (restart 2), because: “canceled in Operate by mistake”. " +
        "The lost process had reached Payment verified."
    )
    assert.match(restartSentence({ ...record, by_email: null, previous_status: null }, NOW, TZ), /by user_01 .*had not reported a status\.$/)
  })

  it("say who retried which incident, and where and since when a process stopped", () => {
    const retry = { incident_key: "7", element_id: "VerifyPayment", by: "user_01", by_email: "ops@shop.test", at: "2026-12-05T01:50:00Z" }
    assert.equal(retrySentence(retry, NOW, TZ), "The incident at Verify payment was retried on 5 Dec, 02:50 by ops@shop.test.")
    const incident = {
      incident_key: "7",
      process_instance_key: "5",
      message: "Medusa unreachable",
      error_type: "JOB_NO_RETRIES",
      element_id: "ReserveInventory",
      created_at: "2026-12-05T01:30:00Z",
      retryable: true,
    }
    assert.equal(incidentSentence(incident, NOW, TZ), "Stopped at Reserve inventory since 5 Dec, 02:30.")
  })
})
