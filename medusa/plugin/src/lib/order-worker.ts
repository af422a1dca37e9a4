/**
 * The worker's two routes inside Medusa: the order as the worker needs it (`view`), and Medusa's own
 * cancel of an order (`cancel`), answered with what happened to the money.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { MedusaError, Modules } from "@medusajs/framework/utils"
import { cancelOrderWorkflow, getLastPaymentStatus } from "@medusajs/medusa/core-flows"

import { type CollectionAmounts, paymentSums, type PaymentSums } from "./money"
import { CANCELED_ORDER_STATUS } from "./order-events"
import { readOrder } from "./order-read"
import { type QueriedOrder, type QueriedReservation, WORKER_VIEW_FIELDS, workerView, type WorkerView } from "./worker-view"
import { workflowMetadata } from "./workflow-state"
import { workflowStateOf } from "./workflow-store"

export async function readWorkerView(container: MedusaContainer, orderId: string): Promise<WorkerView> {
  const order = await readOrder<QueriedOrder>(container, orderId, WORKER_VIEW_FIELDS)
  const lineItemIds = (order.items ?? []).flatMap((item) => (item && typeof item.id === "string" ? [item.id] : []))
  const reservations = lineItemIds.length
    ? await container.resolve(Modules.INVENTORY).listReservationItems({ line_item_id: lineItemIds })
    : []
  const paymentStatus = getLastPaymentStatus({
    currency_code: order.currency_code,
    payment_collections: order.payment_collections ?? [],
  } as unknown as Parameters<typeof getLastPaymentStatus>[0])
  const workflow = workflowMetadata((await workflowStateOf(container, [orderId])).get(orderId))
  return workerView(order, String(paymentStatus), reservations as QueriedReservation[], workflow)
}

export type CancelOutcome = "canceled" | "already_canceled" | "refused"

export interface CancelAnswer extends PaymentSums {
  outcome: CancelOutcome
  reason: string | null
}

interface CancelOrder {
  id: string
  status: string
  payment_collections?: CollectionAmounts[] | null
}

const CANCEL_ORDER_FIELDS = [
  "id",
  "status",
  "payment_collections.captured_amount",
  "payment_collections.refunded_amount",
]

/**
 * Runs Medusa's cancelOrderWorkflow (it refunds captured payments, cancels uncaptured ones, deletes the
 * order's reservations and emits `order.canceled`). Medusa's refusal (`cancelValidateOrder`: a fulfillment
 * exists, or the order is completed) is an answer, not an error: retrying would never change it.
 */
export async function cancelOrder(container: MedusaContainer, orderId: string): Promise<CancelAnswer> {
  // One cancel of an order at a time, across Medusa processes (the locking module: Redis in production).
  // The worker calls again when its call timed out while Medusa was still canceling; two runs of the cancel
  // workflow at once make the second fail on the order's active change, and its compensation restores the
  // reservations the first one deleted: the canceled order would hold its stock for good.
  const locking = container.resolve(Modules.LOCKING)
  return locking.execute(`fulfillment-workflow:cancel:${orderId}`, () => cancelUnlocked(container, orderId), {
    timeout: CANCEL_LOCK_TIMEOUT_SECONDS,
  })
}

// Longer than one cancel takes on a busy Medusa (16 s seen), shorter than the worker's patience for a job.
const CANCEL_LOCK_TIMEOUT_SECONDS = 60

async function cancelUnlocked(container: MedusaContainer, orderId: string): Promise<CancelAnswer> {
  const before = await readOrder<CancelOrder>(container, orderId, CANCEL_ORDER_FIELDS)
  if (before.status === CANCELED_ORDER_STATUS) {
    return answer("already_canceled", null, before)
  }
  try {
    await cancelOrderWorkflow(container).run({ input: { order_id: orderId } })
  } catch (error) {
    if (!isNotAllowed(error)) throw error
    const now = await readOrder<CancelOrder>(container, orderId, CANCEL_ORDER_FIELDS)
    // Canceled by someone else in the meantime: Medusa refuses a second cancel for that reason.
    if (now.status === CANCELED_ORDER_STATUS) {
      return answer("already_canceled", null, now)
    }
    return answer("refused", (error as Error).message, now)
  }
  return answer("canceled", null, await readOrder<CancelOrder>(container, orderId, CANCEL_ORDER_FIELDS))
}

function answer(outcome: CancelOutcome, reason: string | null, order: CancelOrder): CancelAnswer {
  return { outcome, reason, ...paymentSums(order.payment_collections) }
}

function isNotAllowed(error: unknown): boolean {
  return (error as { type?: unknown } | null)?.type === MedusaError.Types.NOT_ALLOWED
}
