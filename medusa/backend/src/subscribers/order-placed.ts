/**
 * The demo shop's own `order.placed` subscriber, written as Medusa's docs write one: a handler named
 * `orderPlacedHandler` and no subscriber id, so Medusa names it after the handler. The fulfillment
 * workflow plugin names its own subscribers, so both run.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { recordShopEvent } from "../lib/shop-events-log"

export default async function orderPlacedHandler({ event }: SubscriberArgs<{ id: string }>): Promise<void> {
  recordShopEvent("order.placed", event.data.id)
}

export const config: SubscriberConfig = {
  event: "order.placed",
}
