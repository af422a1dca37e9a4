/** The demo shop's own `order.canceled` subscriber, named the way Medusa's docs name it (see ./order-placed.ts). */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { recordShopEvent } from "../lib/shop-events-log"

export default async function orderCanceledHandler({ event }: SubscriberArgs<{ id: string }>): Promise<void> {
  recordShopEvent("order.canceled", event.data.id, event.metadata)
}

export const config: SubscriberConfig = {
  event: "order.canceled",
}
