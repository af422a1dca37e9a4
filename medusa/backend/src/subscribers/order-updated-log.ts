/**
 * The demo shop logs every `order.updated` it receives, one line per event, so the end-to-end tests can
 * tell which writes wake the shop's `order.updated` subscribers (the plugin's status route does not,
 * unless its `emitOrderUpdated` option asks).
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

export default async function logOrderUpdated({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  container.resolve(ContainerRegistrationKeys.LOGGER).info(`demo shop: order.updated received for ${event.data.id}`)
}

export const config: SubscriberConfig = {
  event: "order.updated",
}
