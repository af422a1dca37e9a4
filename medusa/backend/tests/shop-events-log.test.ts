import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { waitedMs } from "../src/lib/shop-events-log"

describe("waitedMs", () => {
  it("is the time from the event's publication to the subscriber's start", () => {
    const now = Date.parse("2026-01-01T00:00:01.250Z")
    assert.equal(waitedMs({ published_at: new Date("2026-01-01T00:00:00Z") }, now), 1_250)
    // The Redis event bus hands the metadata over as JSON: the date arrives as a string.
    assert.equal(waitedMs({ published_at: "2026-01-01T00:00:00.000Z" }, now), 1_250)
  })

  it("is null when Medusa did not say when it published the event", () => {
    assert.equal(waitedMs(undefined, 0), null)
    assert.equal(waitedMs({ published_at: null }, 0), null)
  })
})
