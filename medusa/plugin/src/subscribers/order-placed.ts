/**
 * Forwards Medusa's `order.placed` event to the order fulfillment workflow as a signed Standard Webhooks
 * request (the send-order-placed-webhook workflow). Only the order id travels: the receiver fetches the
 * order from the Admin API itself.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { ORDER_PLACED } from "../lib/order-placed"
import { sendOrderPlacedWebhookWorkflow } from "../workflows/send-order-placed-webhook"

export default async function orderPlacedHandler({
  event,
  container,
}: SubscriberArgs<{ id: string }>): Promise<void> {
  const placedAt = (event.metadata as { created_at?: string | Date } | undefined)?.created_at
  await sendOrderPlacedWebhookWorkflow(container).run({
    input: { order_id: event.data.id, placed_at: placedAt },
  })
}

export const config: SubscriberConfig = {
  event: ORDER_PLACED,
}
