/**
 * The demo shop's own record of the order events its subscribers received: one JSON line per event in the
 * file SHOP_EVENTS_LOG names (nothing when it is unset), so a test sees that the shop's subscribers ran
 * next to the fulfillment workflow plugin's, and how long each event waited for them: `waited_ms` is the
 * time from Medusa publishing the event (its `published_at`) to the subscriber starting.
 */
import { appendFileSync } from "node:fs"

export interface ShopEventMetadata {
  published_at?: Date | string | null
}

export function recordShopEvent(event: string, orderId: string, metadata?: ShopEventMetadata): void {
  const path = process.env.SHOP_EVENTS_LOG
  if (path) {
    const startedAt = Date.now()
    const entry = { event, order_id: orderId, started_at: startedAt, waited_ms: waitedMs(metadata, startedAt) }
    // One short line per write, opened for appending: concurrent lines do not interleave.
    appendFileSync(path, JSON.stringify(entry) + "\n")
  }
}

/** From publication to now; null when Medusa did not say when it published the event. */
export function waitedMs(metadata: ShopEventMetadata | undefined, now: number): number | null {
  const publishedAt = metadata?.published_at ? new Date(metadata.published_at).getTime() : Number.NaN
  return Number.isNaN(publishedAt) ? null : now - publishedAt
}

/**
 * SHOP_ORDER_PLACED_DELAY_MS: how long the shop's own `order.placed` subscriber works (default 0), so a
 * test can run the shop with a slow subscriber next to the plugin's.
 */
export function orderPlacedWorkMs(): number {
  const value = Number(process.env.SHOP_ORDER_PLACED_DELAY_MS ?? 0)
  return Number.isFinite(value) && value > 0 ? value : 0
}
