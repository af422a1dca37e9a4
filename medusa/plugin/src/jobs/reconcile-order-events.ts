/**
 * Reconciliation: sends an order's event again when the order's workflow shows no sign of it.
 *
 * - `order.placed` for recent orders (neither canceled nor draft) that have no workflow yet;
 * - `order.canceled` for recently canceled orders whose workflow has not ended. A delivered cancel ends
 *   the process as `canceled` within seconds, so a canceled order whose workflow status is not terminal
 *   after `minAgeMs` did not get its cancel through. What the job can know cheaply: the order's
 *   `canceled_at` inside the window, and its workflow status. An order no process reported on (no status)
 *   would never get one, so it would be sent its cancel on every run: the job delivers that cancel once,
 *   then records `canceled` itself and leaves the order alone (`canceledOrderStep`).
 *
 * The subscribers' deliveries retry in Medusa's workflow engine, but they end: after `retry.maxAttempts`,
 * when a Medusa process dies in the middle of an attempt, and (with the in-memory event bus) when Medusa
 * stops before an event reached the subscriber. This job closes that gap, with one attempt per order and
 * run: its next run is the retry. It sends the same events, with the same webhook-ids, as the subscribers.
 *
 * Redelivery is harmless only inside the receiver's dedup window. An order without a workflow status may
 * still have a running process (its workers have not reported yet, e.g. during a worker outage). While the
 * first `order-placed` message is buffered (the webhook's ORDER_MESSAGE_TTL_SECONDS, default 3600 s from
 * publication, which is at or after the order's creation), Zeebe refuses the resent one as a duplicate.
 * After that, Zeebe would accept it and start a second process when the first one ends. So the lookback
 * stays below the message TTL: every order the job resends is still inside that window. (A cancel sent
 * again is refused the same way; after the TTL it would end nothing that had not ended already.)
 *
 * Options: `reconciliation.enabled`, `intervalMs` (how often it runs), `minAgeMs` (only orders placed or
 * canceled longer ago than the subscriber's own retries take) and `lookbackMs` (how far back; keep it
 * below the message TTL).
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

import { type ReconciliationOptions, webhookTarget } from "../lib/options"
import { CANCELED_ORDER_STATUS, type ForwardedEvent, ORDER_CANCELED, ORDER_PLACED } from "../lib/order-events"
import { pluginOptions, registeredOptions } from "../lib/settings"
import { mirrorWorkflowState } from "../lib/order-status"
import { workflowModule, workflowStateOf } from "../lib/workflow-store"
import { CANCELED_STATUS, COMPLETED_STATUS, isFailure, isWorkflowStatus } from "../lib/workflow-status"
import { sendOrderEventWorkflow } from "../workflows/send-order-event"

const BATCH = 200
const ONCE_A_DAY_MS = 86_400_000

export interface RecentOrder {
  id: string
  created_at: string | Date
  canceled_at?: string | Date | null
}

/** The orders the job looks at: those placed (or canceled) between `from` and `to`. */
export interface Window {
  from: Date
  to: Date
}

export default async function reconcileOrderEvents(container: MedusaContainer): Promise<void> {
  const options = pluginOptions(container)
  if (!options.reconciliation.enabled || !webhookTarget(options)) {
    return
  }
  const window = reconciliationWindow(options.reconciliation, Date.now())
  await resendUnstartedOrders(container, window, options.reconciliation.lookbackMs)
  await resendUndeliveredCancels(container, window, options.reconciliation.lookbackMs)
}

export function reconciliationWindow(options: Pick<ReconciliationOptions, "lookbackMs" | "minAgeMs">, now: number): Window {
  return { from: new Date(now - options.lookbackMs), to: new Date(now - options.minAgeMs) }
}

async function resendUnstartedOrders(container: MedusaContainer, window: Window, lookbackMs: number): Promise<void> {
  const placed = await recentOrders(container, "created_at", {
    created_at: { $gte: window.from, $lte: window.to },
    status: { $nin: [CANCELED_ORDER_STATUS, "draft"] },
  })
  const started = await ordersWithWorkflow(container, placed)
  const unstarted = placed.filter((order) => !started.has(order.id))
  if (unstarted.length === 0) {
    return
  }
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  logger.warn(`reconciliation: ${unstarted.length} recent order(s) without workflow_status, sending again`)
  await sendEach(container, ORDER_PLACED, unstarted, (order) => order.created_at, lookbackMs)
}

async function resendUndeliveredCancels(container: MedusaContainer, window: Window, lookbackMs: number): Promise<void> {
  const canceled = await recentOrders(container, "canceled_at", {
    canceled_at: { $gte: window.from, $lte: window.to },
    status: CANCELED_ORDER_STATUS,
  })
  const stored = await recordedStatuses(container, canceled)
  const undelivered = canceled
    .map((order) => ({ order, step: canceledOrderStep(stored.get(order.id) ?? null) }))
    .filter(({ step }) => step !== "leave_alone")
  if (undelivered.length === 0) {
    return
  }
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  logger.warn(
    `reconciliation: ${undelivered.length} canceled order(s) whose workflow has not ended, sending order.canceled again`
  )
  for (const { order, step } of undelivered) {
    if (stillInsideLookback(order.canceled_at ?? order.created_at, lookbackMs, Date.now())) {
      await cancelOnce(container, order, step)
    }
  }
}

/**
 * What the job does for a canceled order, from the workflow status stored for it:
 * - `leave_alone`: the workflow ended (completed, canceled, failed): a cancel has nothing left to stop;
 * - `resend_cancel`: a process reported and has not ended, so its cancel did not get through: send it again;
 * - `cancel_unstarted`: no process ever reported: the order was canceled before its workflow started (or
 *   before a process that started reported). The cancel is delivered once, so a process that started
 *   unseen ends at its first step; once the webhook took it, `canceled` is recorded, which ends the job's
 *   interest in the order and makes any later `order.placed` a duplicate for the webhook.
 */
export type CanceledOrderStep = "leave_alone" | "resend_cancel" | "cancel_unstarted"

export function canceledOrderStep(stored: string | null): CanceledOrderStep {
  if (stored === null) return "cancel_unstarted"
  return workflowEnded(stored) ? "leave_alone" : "resend_cancel"
}

/**
 * What staff read on an order canceled before any step of its workflow reported (the job recorded
 * `canceled`). Said so because the plugin cannot tell "never started" from "started, not yet reported";
 * in both cases the delivered cancel leaves nothing running for the order.
 */
export const CANCELED_BEFORE_START_MESSAGE =
  "Canceled in Medusa before any step of its fulfillment workflow reported. The cancel was passed to the workflow, so no step runs for this order."

/** One attempt at the order's cancel; for an order no process reported on, `canceled` once the webhook took it. */
async function cancelOnce(container: MedusaContainer, order: RecentOrder, step: CanceledOrderStep): Promise<void> {
  const { result: outcome } = await sendOrderEventWorkflow(container).run({
    input: { order_id: order.id, event: ORDER_CANCELED },
  })
  if (step === "cancel_unstarted" && outcome.result === "delivered") {
    await recordCanceledBeforeStart(container, order)
  }
}

/**
 * Records `canceled` only while no status is stored (one conditional statement): a process that reported
 * meanwhile keeps its status, and the job's next run sees it and sends that process its cancel.
 */
async function recordCanceledBeforeStart(container: MedusaContainer, order: RecentOrder): Promise<void> {
  const { applied, state } = await workflowModule(container).compareAndSetStatus(
    order.id,
    {
      status: CANCELED_STATUS,
      message: CANCELED_BEFORE_START_MESSAGE,
      last_updated: new Date(order.canceled_at ?? Date.now()).toISOString(),
    },
    [null]
  )
  if (applied && state) {
    await mirrorWorkflowState(container, state)
    const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
    logger.info(`reconciliation: order ${order.id} was canceled before any step of its workflow reported; recorded as canceled`)
  }
}

async function recentOrders(
  container: MedusaContainer,
  newestFirstBy: "created_at" | "canceled_at",
  filters: Record<string, unknown>
): Promise<RecentOrder[]> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "order",
    fields: ["id", "created_at", "canceled_at"],
    filters,
    pagination: { take: BATCH, order: { [newestFirstBy]: "DESC" } },
  })
  return data as RecentOrder[]
}

/** One quick attempt each, one order after the other: the next run retries whatever still fails. */
async function sendEach(
  container: MedusaContainer,
  event: ForwardedEvent,
  orders: RecentOrder[],
  since: (order: RecentOrder) => string | Date,
  lookbackMs: number
): Promise<void> {
  for (const order of orders) {
    if (stillInsideLookback(since(order), lookbackMs, Date.now())) {
      await sendOrderEventWorkflow(container).run({ input: { order_id: order.id, event } })
    }
  }
}

/** The orders, among these, that have a workflow: its process reported at least once (the plugin's table). */
async function ordersWithWorkflow(container: MedusaContainer, orders: RecentOrder[]): Promise<Set<string>> {
  const states = await recordedStatuses(container, orders)
  return new Set(orders.filter((order) => states.get(order.id) != null).map((order) => order.id))
}

async function recordedStatuses(container: MedusaContainer, orders: RecentOrder[]): Promise<Map<string, string | null>> {
  const states = await workflowStateOf(
    container,
    orders.map((order) => order.id)
  )
  return new Map([...states].map(([id, state]) => [id, state.status || null]))
}

/** Completed, canceled or failed: the process is over, and a cancel has nothing left to stop. */
export function workflowEnded(status: string | null): boolean {
  return isWorkflowStatus(status) && (status === COMPLETED_STATUS || status === CANCELED_STATUS || isFailure(status))
}

/** A slow run (one timeout per order) must not send past the lookback, where a resend is no longer safe. */
export function stillInsideLookback(since: string | Date, lookbackMs: number, now: number): boolean {
  return now - new Date(since).getTime() <= lookbackMs
}

/** A job's schedule is read when Medusa loads it, before any container exists: from the registered options. */
function scheduleIntervalMs(): number {
  const reconciliation = registeredOptions()?.reconciliation
  // A disabled job still needs a schedule: it runs once a day and returns at once.
  return reconciliation?.enabled ? reconciliation.intervalMs : ONCE_A_DAY_MS
}

export const config = {
  name: "fulfillment-workflow-reconcile-order-events",
  schedule: { interval: scheduleIntervalMs() },
}
