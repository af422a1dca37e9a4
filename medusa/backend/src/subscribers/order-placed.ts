/**
 * The demo shop's own `order.placed` subscriber, written as Medusa's docs write one: a handler named
 * `orderPlacedHandler` and no subscriber id, so Medusa names it after the handler. The fulfillment
 * workflow plugin names its own subscribers, so both run. It records when it started (see
 * ../lib/shop-events-log.ts), then works for SHOP_ORDER_PLACED_DELAY_MS, as a slower shop subscriber would.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { setTimeout as sleep } from "node:timers/promises"

import { orderPlacedWorkMs, recordShopEvent } from "../lib/shop-events-log"

export default async function orderPlacedHandler({ event }: SubscriberArgs<{ id: string }>): Promise<void> {
  recordShopEvent("order.placed", event.data.id, event.metadata)
  await sleep(orderPlacedWorkMs())
}

export const config: SubscriberConfig = {
  event: "order.placed",
}
