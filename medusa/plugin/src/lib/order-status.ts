/**
 * Writes the workflow's keys onto an order under a per-order lock of Medusa's Locking Module; the plugin's
 * other write to an order (the mail marker, ./order-notification.ts) takes the same lock.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"

import { readOrder } from "./order-read"
import { pluginOptions } from "./settings"
import { decide, type NotAppliedReason, type StatusWrite, workflowKeys } from "./status-write"

/**
 * How long a write waits for the order's lock. Past it the write is refused with a server error, which the
 * status function treats like any Medusa outage: it retries, and the worker's job retries after it.
 */
const LOCK_TIMEOUT_SECONDS = 10

export interface StatusWriteAnswer {
  applied: boolean
  reason: NotAppliedReason | null
  metadata: Record<string, unknown>
}

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
  const order = await readOrder<{ id: string; status: string; metadata: Record<string, unknown> | null }>(
    container,
    orderId,
    ["id", "status", "metadata"]
  )
  const decision = decide(order, write)
  if (!decision.apply) {
    return { applied: false, reason: decision.reason, metadata: workflowKeys(order.metadata) }
  }
  // The order module stores metadata as given: merge here, under the lock, so every other key survives.
  const metadata = { ...(order.metadata ?? {}), ...write.metadata }
  await container.resolve(Modules.ORDER).updateOrders(orderId, { metadata })
  if (pluginOptions(container).emitOrderUpdated) {
    await container.resolve(Modules.EVENT_BUS).emit({ name: "order.updated", data: { id: orderId } })
  }
  return { applied: true, reason: null, metadata: workflowKeys(metadata) }
}
