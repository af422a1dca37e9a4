/**
 * POST /fulfillment-workflow/orders/{id}/status inside Medusa, as the steps of the record-workflow-status
 * workflow (../workflows/record-workflow-status.ts) run it: the compare-and-set of the order's workflow
 * state in the plugin's module, and the mirror of that state into the order's metadata.
 *
 * The comparison and the write are one conditional statement in the database, so two writers, in one
 * Medusa process or in several, can never move an order backwards, and nothing is locked in between. A
 * metadata write by anyone else (the admin's metadata form, another plugin) changes only the mirror: the
 * decision reads the module's row, and the next applied change writes the mirror again.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"

import type { MailOrder, NotificationAnswer } from "./notification"
import { readOrder } from "./order-read"
import { pluginOptions } from "./settings"
import { type NotAppliedReason, refusedByOrder, type StatusWrite } from "./status-write"
import { columnsOf, mirrorOf, type OrderWorkflowState, workflowMetadata } from "./workflow-state"
import { workflowModule, workflowStateOf } from "./workflow-store"

/** The order's fields the status write reads: its status in Medusa (a canceled order takes few statuses). */
export const STATUS_ORDER_FIELDS = ["id", "status"]

export type StatusOrder = { id: string; status: string } & MailOrder

/** What the compare-and-set did, before the answer is built from it. */
export interface CompareAndSetResult {
  applied: boolean
  reason: NotAppliedReason | null
  /** The order's workflow state after the write (null: it has none). */
  state: OrderWorkflowState | null
}

/**
 * The status route's answer, which the status function passes on to the worker as it is (the same name,
 * `StatusWriteAnswer`, in fulfillment/medusa.py).
 */
export interface StatusWriteAnswer {
  applied: boolean
  reason: NotAppliedReason | null
  /** The order's workflow keys after the call, as text. */
  metadata: Record<string, string>
  notification?: NotificationAnswer
}

/**
 * Writes the workflow keys if the order's stored status is one the write `replaces`, in one conditional
 * statement. A canceled order that does not take the written status is refused before anything is written,
 * and the statement itself checks the order again: an order staff canceled after it was read (a cancel
 * racing this route) is refused too, never given a status that only an open order takes.
 */
export async function compareAndSet(container: MedusaContainer, order: StatusOrder, write: StatusWrite): Promise<CompareAndSetResult> {
  if (refusedByOrder(order.status, write)) {
    return { applied: false, reason: "order_canceled", state: (await workflowStateOf(container, [order.id])).get(order.id) ?? null }
  }
  const openOrderOnly = refusedByOrder("canceled", write)
  const { applied, state } = await workflowModule(container).compareAndSetStatus(order.id, columnsOf(write.metadata), write.replaces, {
    openOrderOnly,
  })
  if (applied) {
    return { applied, reason: null, state }
  }
  const canceledMeanwhile = openOrderOnly && (await readOrder<StatusOrder>(container, order.id, STATUS_ORDER_FIELDS)).status === "canceled"
  return { applied, reason: canceledMeanwhile ? "order_canceled" : "stale", state }
}

/**
 * A mirror written from a row that a later change has replaced would show the older state; rounds like
 * this are rare (two changes of one order within one metadata write), so a few suffice.
 */
const MIRROR_ROUNDS = 5

/**
 * Merges the order's workflow keys into its metadata (only those keys: Medusa's order module merges them
 * with the others), then checks that no change was applied meanwhile, and writes again if one was: the
 * metadata ends with the latest state whichever writer's mirror lands last. Returns the state mirrored.
 */
export async function mirrorWorkflowState(container: MedusaContainer, state: OrderWorkflowState): Promise<OrderWorkflowState> {
  const orders = container.resolve(Modules.ORDER)
  let mirrored = state
  for (let round = 0; round < MIRROR_ROUNDS; round++) {
    await orders.updateOrders(mirrored.order_id, { metadata: mirrorOf(mirrored) })
    const latest = (await workflowStateOf(container, [mirrored.order_id])).get(mirrored.order_id)
    if (!latest || sameMirror(latest, mirrored)) {
      return latest ?? mirrored
    }
    mirrored = latest
  }
  return mirrored
}

/** Medusa's `order.updated` after a status was applied, for shops that asked for it (option `emitOrderUpdated`). */
export async function announceOrderUpdated(container: MedusaContainer, orderId: string): Promise<void> {
  if (pluginOptions(container).emitOrderUpdated) {
    await container.resolve(Modules.EVENT_BUS).emit({ name: "order.updated", data: { id: orderId } })
  }
}

export function statusAnswer(outcome: CompareAndSetResult, notification?: NotificationAnswer): StatusWriteAnswer {
  const answer: StatusWriteAnswer = {
    applied: outcome.applied,
    reason: outcome.reason,
    metadata: workflowMetadata(outcome.state),
  }
  return notification ? { ...answer, notification } : answer
}

function sameMirror(a: OrderWorkflowState, b: OrderWorkflowState): boolean {
  const mirrorA = mirrorOf(a)
  const mirrorB = mirrorOf(b)
  const keys = new Set([...Object.keys(mirrorA), ...Object.keys(mirrorB)])
  return [...keys].every((key) => mirrorA[key] === mirrorB[key])
}
