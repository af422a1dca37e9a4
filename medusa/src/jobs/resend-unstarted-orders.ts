/**
 * Reconciliation: sends the `order.placed` webhook again for recent orders that the workflow never
 * picked up (no `workflow_status` in their metadata).
 *
 * Medusa's in-process event bus delivers an event at most once, and the subscriber's retries live in
 * memory: a restart, or an outage longer than the subscriber's retry window, loses the event. This job
 * closes that gap.
 *
 * Redelivery is harmless only inside the receiver's dedup window. An order without `workflow_status` may
 * still have a running process (its workers have not reported yet, e.g. during a worker outage). While the
 * first `order-placed` message is buffered (the webhook's ORDER_MESSAGE_TTL_SECONDS, default 3600 s from
 * publication, which is at or after the order's creation), Zeebe refuses the resent one as a duplicate.
 * After that, Zeebe would accept it and start a second process when the first one ends. So the lookback
 * stays below the message TTL: every order the job resends is still inside that window.
 *
 * Settings (environment): ORDER_WEBHOOK_RECONCILE_INTERVAL_MS (default 300000; 0 disables the job),
 * ORDER_WEBHOOK_RECONCILE_MIN_AGE_MS (default 600000: older than the subscriber's own retries),
 * ORDER_WEBHOOK_RECONCILE_LOOKBACK_MS (default 3000000: how far back orders are checked; keep it below
 * the webhook's ORDER_MESSAGE_TTL_SECONDS).
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

import { orderPlacedEvent, webhookTargetFromEnv } from "../lib/order-placed"
import { retryPolicyFromEnv, sendWebhook } from "../lib/webhook-sender"

const BATCH = 200

interface ReconcileSettings {
  intervalMs: number
  minAgeMs: number
  lookbackMs: number
}

export function reconcileSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ReconcileSettings {
  return {
    intervalMs: nonNegativeInt(env.ORDER_WEBHOOK_RECONCILE_INTERVAL_MS, 300_000),
    minAgeMs: nonNegativeInt(env.ORDER_WEBHOOK_RECONCILE_MIN_AGE_MS, 600_000),
    lookbackMs: nonNegativeInt(env.ORDER_WEBHOOK_RECONCILE_LOOKBACK_MS, 3_000_000),
  }
}

function nonNegativeInt(value: string | undefined, fallback: number): number {
  const parsed = Number(value)
  return value !== undefined && value !== "" && Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback
}

interface OrderRow {
  id: string
  created_at: string | Date
  metadata: Record<string, unknown> | null
}

export default async function resendUnstartedOrders(container: MedusaContainer): Promise<void> {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const settings = reconcileSettingsFromEnv()
  const target = webhookTargetFromEnv()
  if (!target || settings.intervalMs === 0) {
    return
  }
  const now = Date.now()
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "order",
    fields: ["id", "created_at", "metadata"],
    filters: {
      created_at: { $gte: new Date(now - settings.lookbackMs), $lte: new Date(now - settings.minAgeMs) },
      status: { $nin: ["canceled", "draft"] },
    },
    pagination: { take: BATCH, order: { created_at: "DESC" } },
  })
  const unstarted = (data as OrderRow[]).filter((order) => !order.metadata?.workflow_status)
  if (unstarted.length === 0) {
    return
  }
  logger.warn(`reconciliation: ${unstarted.length} recent order(s) without workflow_status, sending again`)
  // One quick attempt each: the next run retries whatever still fails.
  const retry = { ...retryPolicyFromEnv(), maxAttempts: 1 }
  for (const order of unstarted) {
    // A slow run (one timeout per order) must not send past the lookback, where a resend is no longer safe.
    if (Date.now() - new Date(order.created_at).getTime() > settings.lookbackMs) {
      continue
    }
    await sendWebhook(orderPlacedEvent(order.id, order.created_at), { ...target, retry, logger })
  }
}

const { intervalMs } = reconcileSettingsFromEnv()

export const config = {
  name: "resend-unstarted-orders",
  // An interval of 0 would mean "run continuously": a disabled job runs once a day and returns at once.
  schedule: { interval: intervalMs > 0 ? intervalMs : 86_400_000 },
}
