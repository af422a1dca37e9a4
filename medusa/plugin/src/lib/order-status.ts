/**
 * POST /fulfillment-workflow/orders/{id}/status inside Medusa: the compare-and-set of the workflow's keys
 * and the customer mail that goes with the status, all under one per-order lock of Medusa's Locking
 * Module, so two writers can neither interleave nor move an order backwards, and a mail goes out only for
 * a status the order carries.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"

import { MAIL_ORDER_FIELDS, type MailOrder, type NotificationAnswer } from "./notification"
import { writeMetadata } from "./order-metadata"
import { sendOrderMailOnce } from "./order-notification"
import { readOrder } from "./order-read"
import { pluginOptions } from "./settings"
import { decide, isRecorded, type NotAppliedReason, type StatusWrite, type StoredOrder, workflowKeys } from "./status-write"

/**
 * How long a write waits for the order's lock. Past it the write is refused with a server error, which the
 * status function treats like any Medusa outage: it retries, and the worker's job retries after it.
 */
const LOCK_TIMEOUT_SECONDS = 10

const STATUS_ORDER_FIELDS = ["id", "status", "metadata"]

export interface StatusWriteAnswer {
  applied: boolean
  reason: NotAppliedReason | null
  metadata: Record<string, unknown>
  notification?: NotificationAnswer
}

type StatusOrder = StoredOrder & MailOrder

export async function writeWorkflowStatus(
  container: MedusaContainer,
  orderId: string,
  write: StatusWrite
): Promise<StatusWriteAnswer> {
  return withOrderLock(container, orderId, () => compareAndSet(container, orderId, write))
}

/** Runs `job` under the order's lock of Medusa's Locking Module: the plugin's writes to one order never interleave. */
export async function withOrderLock<T>(container: MedusaContainer, orderId: string, job: () => Promise<T>): Promise<T> {
  const locking = container.resolve(Modules.LOCKING)
  return locking.execute(`fulfillment-workflow:order:${orderId}`, job, { timeout: LOCK_TIMEOUT_SECONDS })
}

async function compareAndSet(container: MedusaContainer, orderId: string, write: StatusWrite): Promise<StatusWriteAnswer> {
  // The mail's fields are read with the status, under the lock: one read of the order per call.
  const fields = write.notification ? [...STATUS_ORDER_FIELDS, ...MAIL_ORDER_FIELDS] : STATUS_ORDER_FIELDS
  const order = await readOrder<StatusOrder>(container, orderId, fields)
  const decision = decide(order, write)
  let metadata = order.metadata ?? {}
  if (decision.apply) {
    metadata = await writeMetadata(container, orderId, metadata, write.metadata)
    if (pluginOptions(container).emitOrderUpdated) {
      await container.resolve(Modules.EVENT_BUS).emit({ name: "order.updated", data: { id: orderId } })
    }
  }
  const answer: StatusWriteAnswer = {
    applied: decision.apply,
    reason: decision.apply ? null : decision.reason,
    metadata: workflowKeys(metadata),
  }
  if (!write.notification) {
    return answer
  }
  if (!isRecorded(order, write, decision)) {
    return { ...answer, notification: { sent: false, reason: "not_recorded" } }
  }
  const mail = await sendOrderMailOnce(container, { ...order, metadata }, write.notification)
  return { ...answer, metadata: workflowKeys(mail.metadata), notification: mail.answer }
}
