/**
 * Forwards Medusa's `order.placed` event to the order fulfillment workflow as a signed Standard Webhooks
 * request. Only the order id travels: the receiver fetches the order from the Admin API itself.
 *
 * Settings (environment): ORDER_WEBHOOK_URL, ORDER_WEBHOOK_SECRET (whsec_...), and optionally
 * ORDER_WEBHOOK_MAX_ATTEMPTS, ORDER_WEBHOOK_RETRY_BASE_MS, ORDER_WEBHOOK_RETRY_MAX_MS,
 * ORDER_WEBHOOK_TIMEOUT_MS.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

import { retryPolicyFromEnv, sendWebhook } from "../lib/webhook-sender"

const EVENT_NAME = "order.placed"

export default async function orderPlacedHandler({
  event,
  container,
}: SubscriberArgs<{ id: string }>): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const url = process.env.ORDER_WEBHOOK_URL
  const secret = process.env.ORDER_WEBHOOK_SECRET
  if (!url || !secret) {
    logger.error(
      `order ${event.data.id}: ${EVENT_NAME} not forwarded, ORDER_WEBHOOK_URL or ORDER_WEBHOOK_SECRET is not set`
    )
    return
  }
  const createdAt = (event.metadata as { created_at?: string | Date } | undefined)?.created_at
  await sendWebhook(
    {
      // The same id for every retry of this event, so the receiver can tell retries from new events.
      id: `msg_${EVENT_NAME.replace(".", "_")}_${event.data.id}`,
      payload: {
        type: EVENT_NAME,
        timestamp: new Date(createdAt ?? Date.now()).toISOString(),
        data: { id: event.data.id },
      },
    },
    { url, secret, retry: retryPolicyFromEnv(), logger }
  )
}

export const config: SubscriberConfig = {
  event: EVENT_NAME,
}
