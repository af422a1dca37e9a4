/**
 * Forwards Medusa's `order.canceled` event (staff canceled the order, or the workflow's own cancel) as a
 * signed webhook, delivered like `order.placed` (../workflows/deliver-order-event.ts: started here,
 * attempted and retried by Medusa's workflow engine), once the plugin has read the order as canceled: the
 * receiver publishes a message that ends the order's process as `canceled`, so a canceled order is never
 * confirmed to the customer. The subscriber id is namespaced like order-placed's.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { ORDER_CANCELED } from "../lib/order-events"
import { startOrderEventDelivery } from "../workflows/deliver-order-event"

export const ORDER_CANCELED_SUBSCRIBER_ID = "fulfillment-workflow-order-canceled"

export default async function orderCanceledHandler({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await startOrderEventDelivery(container, ORDER_CANCELED, event.data.id)
}

export const config: SubscriberConfig = {
  event: ORDER_CANCELED,
  context: { subscriberId: ORDER_CANCELED_SUBSCRIBER_ID },
}
