import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { SUMMARY_DEFAULT_LIMIT, SUMMARY_MAX_LIMIT, SUMMARY_WINDOW_MS, summaryPage } from "../src/lib/admin-view"

const NOW = Date.parse("2026-12-04T12:00:00Z")

describe("summaryPage", () => {
  it("reads the newest 100 orders of the last week unless asked for fewer", () => {
    assert.deepEqual(summaryPage({}, NOW), { since: new Date("2026-11-27T12:00:00Z"), limit: SUMMARY_DEFAULT_LIMIT })
    assert.equal(SUMMARY_DEFAULT_LIMIT, 100)
    assert.equal(SUMMARY_WINDOW_MS, 7 * 24 * 3_600_000)
    assert.equal(summaryPage({ limit: "25" }, NOW).limit, 25)
    assert.equal(summaryPage(undefined, NOW).limit, SUMMARY_DEFAULT_LIMIT)
  })

  it("refuses a page larger than 200 or one that is not a whole number", () => {
    assert.equal(summaryPage({ limit: String(SUMMARY_MAX_LIMIT) }, NOW).limit, 200)
    for (const limit of ["201", "1000", "0", "-5", "ten", "2.5"]) {
      assert.throws(() => summaryPage({ limit }, NOW), /limit must be a whole number from 1 to 200/, limit)
    }
  })
})
