/**
 * The order events the plugin signs and sends to the `order_webhook` function, built from the order as
 * the plugin just read it (docs/contracts.md, "Order webhook"), so the function needs no call to Medusa.
 * The subscribers, the reconciliation job and the admin's resend all send what these functions build.
 *
 * One `webhook-id` per order and event, whoever sends it and however often, so the receiver can tell a
 * redelivery from a new event. Every body is `{"type", "occurred_at", "data"}`: `occurred_at` is when the
 * event happened in Medusa (the order's creation, its cancellation), so every sender signs the same body.
 * No customer data (email, addresses, names) is in any body.
 */
import { readAmount } from "./money"
import type { WebhookEvent } from "./webhook-sender"

export const ORDER_PLACED = "order.placed"
export const ORDER_CANCELED = "order.canceled"

/** The order events the plugin forwards to the fulfillment workflow. */
export type ForwardedEvent = typeof ORDER_PLACED | typeof ORDER_CANCELED

/** The order's fields an event is built from. */
export const EVENT_ORDER_FIELDS = [
  "id",
  "display_id",
  "status",
  "currency_code",
  "total",
  "created_at",
  "canceled_at",
]

export interface EventOrder {
  id: string
  display_id?: number | null
  status?: string | null
  currency_code?: string | null
  total?: unknown
  created_at?: string | Date | null
  canceled_at?: string | Date | null
  /** The order's workflow status in the plugin's table (never the metadata mirror, which staff may edit). */
  workflow_status?: string | null
  /** How many times staff restarted the order's process (the plugin's table); 0 or absent: never. */
  restart_count?: number | null
}

/**
 * The `webhook-id` of an order's event: the same for every send of it, by any sender. It also names the
 * delivery's transaction in Medusa's workflow engine (one per order and event), so it never holds a `:`,
 * which the engine uses to separate the parts of its storage keys.
 */
export function eventMessageId(event: ForwardedEvent, orderId: string): string {
  return `msg_${event.replace(".", "_")}_${orderId}`
}

/** Medusa's status of a canceled order. */
export const CANCELED_ORDER_STATUS = "canceled"

/**
 * `order.placed` with what the process needs: `workflow_status` is the status stored on the order (null
 * before any process reported), so the receiver knows a redelivery for an order already under way.
 * It occurred at the order's creation.
 */
export function orderPlacedEvent(order: EventOrder): WebhookEvent {
  const stored = order.workflow_status
  const placedAt = isoTime(order.created_at)
  const restart = order.restart_count && order.restart_count > 0 ? order.restart_count : null
  const data = {
    id: order.id,
    display_id: order.display_id ?? null,
    currency_code: order.currency_code ?? null,
    total: readAmount(order.total),
    created_at: placedAt,
    workflow_status: typeof stored === "string" && stored !== "" ? stored : null,
  }
  // A restarted order's event is its latest restart, whoever sends it: the webhook publishes it with the
  // restart's own message id (docs/contracts.md), so a resend while it is buffered stays a duplicate.
  return {
    id: restart ? `${eventMessageId(ORDER_PLACED, order.id)}_restart_${restart}` : eventMessageId(ORDER_PLACED, order.id),
    payload: { type: ORDER_PLACED, occurred_at: placedAt, data: restart ? { ...data, restart } : data },
  }
}

/** `order.canceled`, only for an order the plugin read as canceled (it occurred at its cancellation); null for any other. */
export function orderCanceledEvent(order: EventOrder): WebhookEvent | null {
  if (order.status !== CANCELED_ORDER_STATUS) {
    return null
  }
  return {
    id: eventMessageId(ORDER_CANCELED, order.id),
    payload: {
      type: ORDER_CANCELED,
      occurred_at: isoTime(order.canceled_at),
      data: { id: order.id, status: CANCELED_ORDER_STATUS },
    },
  }
}

export function orderEvent(event: ForwardedEvent, order: EventOrder): WebhookEvent | null {
  return event === ORDER_CANCELED ? orderCanceledEvent(order) : orderPlacedEvent(order)
}

function isoTime(value: string | Date | null | undefined): string {
  const time = value ? new Date(value) : new Date()
  return Number.isNaN(time.getTime()) ? new Date().toISOString() : time.toISOString()
}
