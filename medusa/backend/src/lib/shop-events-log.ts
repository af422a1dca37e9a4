/**
 * The demo shop's own record of the order events its subscribers received: one JSON line per event in the
 * file SHOP_EVENTS_LOG names (nothing when it is unset), so a test sees that the shop's subscribers ran
 * next to the fulfillment workflow plugin's.
 */
import { appendFileSync } from "node:fs"

export function recordShopEvent(event: string, orderId: string): void {
  const path = process.env.SHOP_EVENTS_LOG
  if (path) {
    // One short line per write, opened for appending: concurrent lines do not interleave.
    appendFileSync(path, JSON.stringify({ event, order_id: orderId }) + "\n")
  }
}
