/**
 * Forwards Medusa's `order.placed` event to the order fulfillment workflow as a signed Standard Webhooks
 * request. The subscriber only starts the delivery (../workflows/deliver-order-event.ts) and returns:
 * Medusa's workflow engine makes the attempts and the retries, so the shop's event queue never waits for
 * the receiver.
 *
 * The subscriber id is the plugin's own: Medusa names a subscriber after its handler function otherwise,
 * and a shop's own `orderPlacedHandler` (the name Medusa's docs use) would then collide with this one and
 * stop Medusa at start.
 */
import type { SubscriberArgs, SubscriberConfig } from "@medusajs/framework"

import { ORDER_PLACED } from "../lib/order-events"
import { startOrderEventDelivery } from "../workflows/deliver-order-event"

export const ORDER_PLACED_SUBSCRIBER_ID = "fulfillment-workflow-order-placed"

export default async function orderPlacedHandler({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  await startOrderEventDelivery(container, ORDER_PLACED, event.data.id)
}

export const config: SubscriberConfig = {
  event: ORDER_PLACED,
  context: { subscriberId: ORDER_PLACED_SUBSCRIBER_ID },
}
