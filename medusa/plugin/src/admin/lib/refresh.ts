/**
 * When the widgets read their route again. Pure: the hooks hand these to TanStack Query's `refetchInterval`
 * (false = no more reads), and the unit tests drive them directly.
 *
 * An open admin tab must not load the shop for nothing: reads stop once nothing can change, slow down
 * while the order waits for something that takes hours (a payment, a person), and back off after errors.
 */
import { AWAITING_PAYMENT_STATUS } from "../../lib/workflow-status"
import { isClosedOrder, isFinalState, type WorkflowView } from "../../lib/workflow-view"

export interface Backoff {
  firstMs: number
  maxMs: number
}

/** The wait after `failures` failed reads in a row: first, twice that, four times ..., at most max. */
export function backoffMs(failures: number, backoff: Backoff): number {
  const doublings = Math.max(failures - 1, 0)
  // 2 ** 31 and beyond would only overflow towards the cap: stop doubling long before.
  return Math.min(backoff.firstMs * 2 ** Math.min(doublings, 30), backoff.maxMs)
}

export const ORDER_REFRESH = {
  /** A running process reports every few seconds. */
  runningMs: 5_000,
  /** Not started yet: the webhook is on its way, or staff may resend it. */
  notStartedMs: 15_000,
  /** Waiting for a payment (days at most), stalled, a closed order's process ending, or an unknown status. */
  slowMs: 60_000,
  errors: { firstMs: 5_000, maxMs: 60_000 } satisfies Backoff,
}

/**
 * The order panel: how long until its next read, or false when nothing can change any more (the workflow
 * has ended, or never started for an order that is canceled or a draft).
 */
export function orderRefreshMs(view: WorkflowView | undefined, failures: number): number | false {
  if (failures > 0) return backoffMs(failures, ORDER_REFRESH.errors)
  if (!view || isFinalState(view.state)) return false
  const closed = isClosedOrder({ status: view.order_status })
  if (view.state === "not_started") {
    if (closed) return false
    return view.stalled ? ORDER_REFRESH.slowMs : ORDER_REFRESH.notStartedMs
  }
  const waiting = view.state === "unknown" || view.stalled || view.status === AWAITING_PAYMENT_STATUS
  return waiting || closed ? ORDER_REFRESH.slowMs : ORDER_REFRESH.runningMs
}

export const SUMMARY_REFRESH = {
  /** Failures and stalls are counted in minutes: a read every two minutes per open orders list is plenty. */
  everyMs: 120_000,
  errors: { firstMs: 15_000, maxMs: 600_000 } satisfies Backoff,
  /** The newest orders one read looks at (the route allows up to 200). */
  limit: 100,
}

/** The orders list summary: how long until its next read. */
export function summaryRefreshMs(failures: number): number {
  return failures > 0 ? backoffMs(failures, SUMMARY_REFRESH.errors) : SUMMARY_REFRESH.everyMs
}
