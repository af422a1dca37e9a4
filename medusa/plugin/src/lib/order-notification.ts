/**
 * Hands a customer notification to Medusa's Notification Module (so the shop's own provider sends it) at
 * most once per order and template: under the same per-order lock as the status route, the order's marker
 * key is read; only without it is the notification created (with Medusa's idempotency key as well) and the
 * marker written. A worker that runs the same job again, on any instance, gets `sent: false`.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"

import { idempotencyKey, mailMarkerKey, type NotificationSend } from "./notification-send"
import { readOrder } from "./order-read"
import { withOrderLock } from "./order-status"

export interface NotificationAnswer {
  sent: boolean
  notification_id: string | null
}

export async function sendOrderNotification(
  container: MedusaContainer,
  orderId: string,
  send: NotificationSend
): Promise<NotificationAnswer> {
  return withOrderLock(container, orderId, () => sendOnce(container, orderId, send))
}

async function sendOnce(container: MedusaContainer, orderId: string, send: NotificationSend): Promise<NotificationAnswer> {
  const order = await readOrder<{ id: string; metadata: Record<string, unknown> | null }>(container, orderId, [
    "id",
    "metadata",
  ])
  const marker = mailMarkerKey(send.template)
  const earlier = order.metadata?.[marker]
  if (typeof earlier === "string" && earlier !== "") {
    return { sent: false, notification_id: earlier }
  }
  const notification = await container.resolve(Modules.NOTIFICATION).createNotifications({
    to: send.to,
    channel: "email",
    template: send.template,
    data: { subject: send.subject, body: send.body, order_id: orderId },
    resource_id: orderId,
    resource_type: "order",
    idempotency_key: idempotencyKey(orderId, send.template),
  })
  const id = notification?.id ?? idempotencyKey(orderId, send.template)
  await container.resolve(Modules.ORDER).updateOrders(orderId, { metadata: { ...(order.metadata ?? {}), [marker]: id } })
  return { sent: true, notification_id: id }
}
