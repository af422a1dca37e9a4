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

import { ORDER_PLACED, orderPlacedEvent, webhookTargetFromEnv } from "../lib/order-placed"
import { retryPolicyFromEnv, sendWebhook } from "../lib/webhook-sender"

export default async function orderPlacedHandler({
  event,
  container,
}: SubscriberArgs<{ id: string }>): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const target = webhookTargetFromEnv()
  if (!target) {
    logger.error(
      `order ${event.data.id}: ${ORDER_PLACED} not forwarded, ORDER_WEBHOOK_URL or ORDER_WEBHOOK_SECRET is not set`
    )
    return
  }
  const createdAt = (event.metadata as { created_at?: string | Date } | undefined)?.created_at
  await sendWebhook(orderPlacedEvent(event.data.id, createdAt), {
    ...target,
    retry: retryPolicyFromEnv(),
    logger,
  })
}

export const config: SubscriberConfig = {
  event: ORDER_PLACED,
}
