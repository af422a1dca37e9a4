/**
 * Forwards Medusa's `order.canceled` event (staff canceled the order, or the workflow's own cancel) as a
 * signed webhook through the same delivery workflow as `order.placed`, once the plugin has read the order
 * as canceled: the receiver publishes a message that ends the order's process as `canceled`, so a
 * canceled order is never confirmed to the customer. The subscriber id is namespaced like order-placed's.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { ORDER_CANCELED } from "../lib/order-events"
import { sendOrderPlacedWebhookWorkflow } from "../workflows/send-order-placed-webhook"

export const ORDER_CANCELED_SUBSCRIBER_ID = "fulfillment-workflow-order-canceled"

export default async function orderCanceledHandler({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await sendOrderPlacedWebhookWorkflow(container).run({ input: { order_id: event.data.id, event: ORDER_CANCELED } })
}

export const config: SubscriberConfig = {
  event: ORDER_CANCELED,
  context: { subscriberId: ORDER_CANCELED_SUBSCRIBER_ID },
}
