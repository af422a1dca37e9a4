/**
 * Hands an order's customer mail to Medusa's Notification Module (the shop's provider for the `email`
 * channel renders and sends it) at most once per order and template. The caller holds the order's lock
 * (./order-status.ts): the order's marker key is checked; only without it is the notification created
 * (with Medusa's idempotency key as well, which covers a crash between sending and writing the marker),
 * and then the marker is written. A status function retrying the same write, on any instance, gets
 * `duplicate`.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

import {
  idempotencyKey,
  mailMarkerKey,
  type MailOrder,
  NOTIFICATION_CHANNEL,
  type NotificationAnswer,
  notificationData,
  type NotificationRequest,
} from "./notification"
import { writeMetadata } from "./order-metadata"

export interface MailResult {
  answer: NotificationAnswer
  /** The order's metadata afterwards (with the marker once the mail went out). */
  metadata: Record<string, unknown>
}

export async function sendOrderMailOnce(
  container: MedusaContainer,
  order: MailOrder & { metadata: Record<string, unknown> },
  request: NotificationRequest
): Promise<MailResult> {
  const marker = mailMarkerKey(request.template)
  const earlier = order.metadata[marker]
  if (typeof earlier === "string" && earlier !== "") {
    return { answer: { sent: false, reason: "duplicate" }, metadata: order.metadata }
  }
  if (!order.email) {
    container
      .resolve(ContainerRegistrationKeys.LOGGER)
      .error(`order ${order.id}: the ${request.template} mail was not sent, the order has no email address`)
    return { answer: { sent: false, reason: "no_email" }, metadata: order.metadata }
  }
  const key = idempotencyKey(order.id, request.template)
  const created = await container.resolve(Modules.NOTIFICATION).createNotifications([
    {
      to: order.email,
      channel: NOTIFICATION_CHANNEL,
      template: request.template,
      data: { ...notificationData(order, request) },
      resource_id: order.id,
      resource_type: "order",
      idempotency_key: key,
    },
  ])
  // Nothing created: Medusa holds a notification with this key already (sent before the marker was written).
  const sentNow = created.length > 0
  const metadata = await writeMetadata(container, order.id, order.metadata, { [marker]: created[0]?.id ?? key })
  return { answer: sentNow ? { sent: true, reason: null } : { sent: false, reason: "duplicate" }, metadata }
}
