/**
 * The `order.placed` webhook as both the subscriber and the reconciliation job send it: the same
 * `webhook-id` for one order, whoever sends it and however often, so the receiver can tell a redelivery
 * from a new event. The body's timestamp is when the order was placed as the sender knows it (the
 * event's emission time for the subscriber, the order's `created_at` for the job), so the two may differ
 * by milliseconds; the receiver reads only `data.id`.
 */
import type { WebhookEvent } from "./webhook-sender"

export const ORDER_PLACED = "order.placed"

export function orderPlacedEvent(orderId: string, placedAt: string | Date | undefined): WebhookEvent {
  return {
    id: `msg_order_placed_${orderId}`,
    payload: {
      type: ORDER_PLACED,
      timestamp: new Date(placedAt ?? Date.now()).toISOString(),
      data: { id: orderId },
    },
  }
}
