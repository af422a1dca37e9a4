/**
 * Forwards Medusa's `order.canceled` event (staff canceled the order, or the workflow's own cancel) as a
 * signed webhook through the same delivery workflow as `order.placed`: the receiver publishes a message
 * that ends the order's process as `canceled`, so a canceled order is never confirmed to the customer.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { ORDER_CANCELED } from "../lib/order-placed"
import { sendOrderPlacedWebhookWorkflow } from "../workflows/send-order-placed-webhook"

export default async function orderCanceledHandler({
  event,
  container,
}: SubscriberArgs<{ id: string }>): Promise<void> {
  const canceledAt = (event.metadata as { created_at?: string | Date } | undefined)?.created_at
  await sendOrderPlacedWebhookWorkflow(container).run({
    input: { order_id: event.data.id, placed_at: canceledAt, event: ORDER_CANCELED },
  })
}

export const config: SubscriberConfig = {
  event: ORDER_CANCELED,
}
