/**
 * Hands an order's customer mail to Medusa's Notification Module (the shop's provider for the `email`
 * channel renders and sends it) at most once per order and template, across any number of status writers
 * and Medusa processes: the order's workflow row takes the mail's marker first, in one conditional
 * statement (the first writer wins; every other one answers `duplicate`), and only the winner creates the
 * notification, with Medusa's idempotency key as well. A send that fails drops the marker again, so the
 * status function's retry sends it.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"

import {
  idempotencyKey,
  type MailOrder,
  NOTIFICATION_CHANNEL,
  type NotificationAnswer,
  notificationData,
  type NotificationRequest,
} from "./notification"
import type { OrderWorkflowState } from "./workflow-state"
import { workflowModule } from "./workflow-store"

export async function sendOrderMailOnce(
  container: MedusaContainer,
  order: MailOrder,
  state: OrderWorkflowState,
  request: NotificationRequest
): Promise<NotificationAnswer> {
  const { template } = request
  if (state.mail?.[template]) {
    return { sent: false, reason: "duplicate" }
  }
  if (!order.email) {
    container
      .resolve(ContainerRegistrationKeys.LOGGER)
      .error(`order ${order.id}: the ${template} mail was not sent, the order has no email address`)
    return { sent: false, reason: "no_email" }
  }
  const store = workflowModule(container)
  const key = idempotencyKey(order.id, template)
  if (!(await store.claimMail(order.id, template, key))) {
    return { sent: false, reason: "duplicate" }
  }
  let created: { id: string }[]
  try {
    created = await container.resolve(Modules.NOTIFICATION).createNotifications([
      {
        to: order.email,
        channel: NOTIFICATION_CHANNEL,
        template,
        data: { ...notificationData(order, request) },
        resource_id: order.id,
        resource_type: "order",
        idempotency_key: key,
      },
    ])
  } catch (error) {
    await store.releaseMail(order.id, template, key)
    throw error
  }
  // Nothing created: Medusa holds a notification with this key already (sent before the row was marked);
  // the marker then keeps the key.
  if (created.length === 0) {
    return { sent: false, reason: "duplicate" }
  }
  await store.recordMail(order.id, template, key, created[0].id)
  return { sent: true, reason: null }
}
