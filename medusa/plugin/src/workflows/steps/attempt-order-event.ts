/**
 * One attempt to send an order's event, as the two delivery workflows make it: the durable one
 * (../deliver-order-event.ts) leaves the next attempt to Medusa's workflow engine, the one-shot one
 * (../send-order-event.ts) makes a single attempt and answers with its outcome.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

import { webhookTarget } from "../../lib/options"
import { CANCELED_ORDER_STATUS, type ForwardedEvent, ORDER_PLACED } from "../../lib/order-events"
import { readOrder } from "../../lib/order-read"
import { pluginOptions } from "../../lib/settings"
import { type AttemptOutcome, attemptDelivery, type DeliveryOutcome, type WebhookEvent } from "../../lib/webhook-sender"

/** What the delivery step gets: the event built from the order (null: nothing to send). */
export interface OrderEventDelivery {
  order_id: string
  event_name: ForwardedEvent
  event: WebhookEvent | null
}

/**
 * How a delivery ended. `order_canceled`: an `order.placed` not sent because Medusa shows the order
 * canceled now (it was canceled while its delivery waited): a canceled order needs no process.
 */
export type OrderEventOutcome =
  | DeliveryOutcome
  | { result: "not_configured" }
  | { result: "not_canceled" }
  | { result: "order_canceled" }

/** Attempt number `attempt` (1 for the first); `maxAttempts` overrides the options' retry.maxAttempts. */
export async function attemptOrderEvent(
  delivery: OrderEventDelivery,
  container: Pick<MedusaContainer, "resolve">,
  attempt: number,
  maxAttempts?: number
): Promise<OrderEventOutcome | Extract<AttemptOutcome, { result: "retry" }>> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const options = pluginOptions(container)
  const target = webhookTarget(options)
  if (!target) {
    logger.error(`order ${delivery.order_id}: ${delivery.event_name} not forwarded, no webhook URL or secret is configured`)
    return { result: "not_configured" }
  }
  if (!delivery.event) {
    logger.warn(`order ${delivery.order_id}: ${delivery.event_name} not forwarded, Medusa does not show the order canceled`)
    return { result: "not_canceled" }
  }
  if (delivery.event_name === ORDER_PLACED && (await canceledNow(container, delivery.order_id))) {
    logger.warn(`order ${delivery.order_id}: order.placed not forwarded, the order was canceled in Medusa before it reached the workflow`)
    return { result: "order_canceled" }
  }
  const retry = maxAttempts === undefined ? options.retry : { ...options.retry, maxAttempts }
  return attemptDelivery(delivery.event, attempt, { ...target, retry, logger })
}

/**
 * Read before every attempt, not only when the event was built: an `order.placed` whose delivery retried
 * through a webhook outage must not start a process for an order staff canceled meanwhile.
 */
async function canceledNow(container: Pick<MedusaContainer, "resolve">, orderId: string): Promise<boolean> {
  const order = await readOrder<{ id: string; status?: string | null }>(container, orderId, ["id", "status"])
  return order.status === CANCELED_ORDER_STATUS
}
