/**
 * Forwards Medusa's `order.placed` event to the order fulfillment workflow as a signed Standard Webhooks
 * request (the send-order-placed-webhook workflow, which reads the order and signs what the process needs).
 *
 * The subscriber id is the plugin's own: Medusa names a subscriber after its handler function otherwise,
 * and a shop's own `orderPlacedHandler` (the name Medusa's docs use) would then collide with this one and
 * stop Medusa at start.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { ORDER_PLACED } from "../lib/order-events"
import { sendOrderPlacedWebhookWorkflow } from "../workflows/send-order-placed-webhook"

export const ORDER_PLACED_SUBSCRIBER_ID = "fulfillment-workflow-order-placed"

export default async function orderPlacedHandler({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await sendOrderPlacedWebhookWorkflow(container).run({ input: { order_id: event.data.id } })
}

export const config: SubscriberConfig = {
  event: ORDER_PLACED,
  context: { subscriberId: ORDER_PLACED_SUBSCRIBER_ID },
}
