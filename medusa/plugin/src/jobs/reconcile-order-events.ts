/**
 * Reconciliation: sends the `order.placed` webhook again for recent orders that the workflow never
 * picked up (no `workflow_status` in their metadata).
 *
 * The subscriber's delivery retries in Medusa's workflow engine, but it ends: after retry.maxAttempts,
 * or when a Medusa process dies in the middle of an attempt; and Medusa's in-process event bus loses an
 * event when Medusa stops before the subscriber ran. This job closes that gap.
 *
 * Redelivery is harmless only inside the receiver's dedup window. An order without `workflow_status` may
 * still have a running process (its workers have not reported yet, e.g. during a worker outage). While the
 * first `order-placed` message is buffered (the webhook's ORDER_MESSAGE_TTL_SECONDS, default 3600 s from
 * publication, which is at or after the order's creation), Zeebe refuses the resent one as a duplicate.
 * After that, Zeebe would accept it and start a second process when the first one ends. So the lookback
 * stays below the message TTL: every order the job resends is still inside that window.
 *
 * Options: `reconciliation.enabled`, `intervalMs` (how often it runs), `minAgeMs` (only orders older than
 * the subscriber's own retries) and `lookbackMs` (how far back; keep it below the message TTL).
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

import { webhookTarget } from "../lib/options"
import { pluginOptions, registeredOptions } from "../lib/settings"
import { ORDER_PLACED } from "../lib/order-events"
import { sendOrderEventWorkflow } from "../workflows/send-order-event"

const BATCH = 200
const ONCE_A_DAY_MS = 86_400_000

interface OrderRow {
  id: string
  created_at: string | Date
  metadata: Record<string, unknown> | null
}

export default async function resendUnstartedOrders(container: MedusaContainer): Promise<void> {
  const options = pluginOptions(container)
  const { enabled, lookbackMs, minAgeMs } = options.reconciliation
  if (!enabled || !webhookTarget(options)) {
    return
  }
  const now = Date.now()
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "order",
    fields: ["id", "created_at", "metadata"],
    filters: {
      created_at: { $gte: new Date(now - lookbackMs), $lte: new Date(now - minAgeMs) },
      status: { $nin: ["canceled", "draft"] },
    },
    pagination: { take: BATCH, order: { created_at: "DESC" } },
  })
  const unstarted = (data as OrderRow[]).filter((order) => !order.metadata?.workflow_status)
  if (unstarted.length === 0) {
    return
  }
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  logger.warn(`reconciliation: ${unstarted.length} recent order(s) without workflow_status, sending again`)
  for (const order of unstarted) {
    if (!stillInsideLookback(order, lookbackMs, Date.now())) {
      continue
    }
    // One quick attempt each: the next run retries whatever still fails.
    await sendOrderEventWorkflow(container).run({ input: { order_id: order.id, event: ORDER_PLACED } })
  }
}

/** A slow run (one timeout per order) must not send past the lookback, where a resend is no longer safe. */
export function stillInsideLookback(order: Pick<OrderRow, "created_at">, lookbackMs: number, now: number): boolean {
  return now - new Date(order.created_at).getTime() <= lookbackMs
}

/** A job's schedule is read when Medusa loads it, before any container exists: from the registered options. */
function scheduleIntervalMs(): number {
  const reconciliation = registeredOptions()?.reconciliation
  // A disabled job still needs a schedule: it runs once a day and returns at once.
  return reconciliation?.enabled ? reconciliation.intervalMs : ONCE_A_DAY_MS
}

export const config = {
  name: "resend-unstarted-orders",
  schedule: { interval: scheduleIntervalMs() },
}
