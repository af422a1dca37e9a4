/**
 * What the admin shows about an order's fulfillment workflow, computed from the order's workflow keys (as
 * the plugin's module holds them, not the order's metadata), Medusa's order status and the plugin's
 * options. Pure functions: the admin routes call them, the unit tests drive them directly.
 */
import {
  AWAITING_PAYMENT_STATUS,
  CANCELED_STATUS,
  COMPLETED_STATUS,
  isFailure,
  isWorkflowStatus,
  WORKFLOW_METADATA_KEYS as KEYS,
  type WorkflowStatus,
} from "./workflow-status"

export type WorkflowState = "not_started" | "running" | "completed" | "canceled" | "failed" | "unknown"
export type StepName = "payment" | "inventory" | "notification"
export type StepMark = "done" | "failed" | "pending"

export interface WorkflowView {
  order_id: string
  /** The raw `workflow_status`, or null before the process has reported. */
  status: string | null
  state: WorkflowState
  steps: { name: StepName; mark: StepMark }[]
  message: string | null
  last_updated: string | null
  process_instance_key: string | null
  operate_url: string | null
  /** A non-terminal order (or one never started) whose last sign of life is older than the threshold. */
  stalled: boolean
  /** Medusa's own status of the order ("draft" for a draft order); null when it was not read. */
  order_status: string | null
}

export interface ViewSettings {
  /** Camunda Operate's base URL (e.g. https://bru-2.operate.camunda.io/CLUSTER_ID); none = no link. */
  operateBaseUrl?: string | null
  stalledAfterMs: number
}

export interface OrderRecord {
  id: string
  display_id?: number | null
  created_at?: string | Date | null
  /** The order's workflow keys (./workflow-state.ts `workflowMetadata`). */
  workflow?: Record<string, unknown> | null
  /** Medusa's order status: pending, completed, draft, archived, canceled, requires_action. */
  status?: string | null
  is_draft_order?: boolean | null
}

/**
 * Medusa orders the workflow has nothing (more) to do for: drafts are not placed yet, canceled and archived
 * orders are closed by staff. They are never stalled and never counted as needing attention; a canceled
 * order's money and mail were already handled by the cancel.
 */
export const CLOSED_ORDER_STATUSES: readonly string[] = ["draft", "canceled", "archived"]

export function isClosedOrder(order: Pick<OrderRecord, "status" | "is_draft_order">): boolean {
  return CLOSED_ORDER_STATUSES.includes(orderStatus(order) ?? "")
}

/** Medusa's status of the order, with a draft order always "draft". */
function orderStatus(order: Pick<OrderRecord, "status" | "is_draft_order">): string | null {
  return order.is_draft_order === true ? "draft" : (order.status ?? null)
}

const STEP_NAMES: readonly StepName[] = ["payment", "inventory", "notification"]

// The marks of payment, inventory and notification for each status.
const STEP_MARKS: Record<WorkflowStatus, readonly [StepMark, StepMark, StepMark]> = {
  awaiting_payment: ["pending", "pending", "pending"],
  payment_verified: ["done", "pending", "pending"],
  inventory_reserved: ["done", "done", "pending"],
  completed: ["done", "done", "done"],
  payment_failed: ["failed", "pending", "pending"],
  out_of_stock: ["done", "failed", "pending"],
  // Payment or stock failed and Medusa refused to cancel the order (e.g. it has a fulfillment): the message
  // says which, and staff decide; no step can be marked from the status alone.
  cancel_refused: ["pending", "pending", "pending"],
  canceled: ["pending", "pending", "pending"],
}
const NOTHING_DONE = ["pending", "pending", "pending"] as const

export function workflowView(order: OrderRecord, settings: ViewSettings, now = Date.now()): WorkflowView {
  const keys = order.workflow ?? {}
  const raw = filledText(keys[KEYS.status])
  const status = isWorkflowStatus(raw) ? raw : null
  const state = stateOf(raw, status)
  const lastUpdated = filledText(keys[KEYS.lastUpdated])
  const instanceKey = filledText(keys[KEYS.instance])
  const marks = status ? STEP_MARKS[status] : NOTHING_DONE
  return {
    order_id: order.id,
    status: raw,
    state,
    steps: STEP_NAMES.map((name, index) => ({ name, mark: marks[index] })),
    message: filledText(keys[KEYS.message]),
    last_updated: lastUpdated,
    process_instance_key: instanceKey,
    operate_url: operateUrl(settings.operateBaseUrl, instanceKey),
    stalled:
      status !== AWAITING_PAYMENT_STATUS &&
      !isClosedOrder(order) &&
      isStalled(state, lastUpdated ?? dateText(order.created_at), settings.stalledAfterMs, now),
    order_status: orderStatus(order),
  }
}

function stateOf(raw: string | null, status: WorkflowStatus | null): WorkflowState {
  if (raw === null) return "not_started"
  if (status === null) return "unknown"
  if (status === COMPLETED_STATUS) return "completed"
  if (status === CANCELED_STATUS) return "canceled"
  return isFailure(status) ? "failed" : "running"
}

/** The process has ended: nothing about the order's workflow changes any more. */
export function isFinalState(state: WorkflowState): boolean {
  return state === "completed" || state === "canceled" || state === "failed"
}

function isStalled(state: WorkflowState, since: string | null, thresholdMs: number, now: number): boolean {
  if (isFinalState(state) || since === null) return false
  const at = Date.parse(since)
  return Number.isFinite(at) && now - at > thresholdMs
}

/** Operate shows a process instance at `<base>/processes/<key>`. */
export function operateUrl(base: string | null | undefined, instanceKey: string | null): string | null {
  if (!base || !instanceKey) return null
  return `${base.replace(/\/+$/, "")}/processes/${encodeURIComponent(instanceKey)}`
}

/** A metadata value as text; an empty string counts as no value. */
function filledText(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null
}

function dateText(value: string | Date | null | undefined): string | null {
  if (value instanceof Date) return value.toISOString()
  return filledText(value)
}

export interface AttentionOrder {
  id: string
  display_id: number | null
  status: string | null
  message: string | null
  last_updated: string | null
}

/** Which orders a summary looked at: at most `limit` of the newest placed since `since`. */
export interface SummaryPage {
  since: Date
  limit: number
}

export interface AttentionSummary {
  since: string
  /** The most orders one summary reads; `checked` below it means every order since `since` was read. */
  limit: number
  checked: number
  failed: AttentionOrder[]
  stalled: AttentionOrder[]
}

/**
 * The recent orders staff should look at: those whose workflow failed (`cancel_refused` among them), and
 * those that stalled. Drafts and canceled or archived orders are left out (see CLOSED_ORDER_STATUSES).
 */
export function attentionSummary(
  orders: OrderRecord[],
  settings: ViewSettings,
  page: SummaryPage,
  now = Date.now()
): AttentionSummary {
  const summary: AttentionSummary = {
    since: page.since.toISOString(),
    limit: page.limit,
    checked: orders.length,
    failed: [],
    stalled: [],
  }
  for (const order of orders) {
    if (isClosedOrder(order)) continue
    const view = workflowView(order, settings, now)
    const entry: AttentionOrder = {
      id: order.id,
      display_id: order.display_id ?? null,
      status: view.status,
      message: view.message,
      last_updated: view.last_updated,
    }
    if (view.state === "failed") summary.failed.push(entry)
    else if (view.stalled) summary.stalled.push(entry)
  }
  return summary
}

/**
 * Whether the admin offers "Resend to workflow", and why not. Hidden where it can never do anything (a closed
 * order, an order the workflow already has: the webhook would answer "duplicate"); disabled where the shop
 * could change that (no webhook configured).
 */
export interface ResendOption {
  offer: "available" | "disabled" | "hidden"
  /** Why it is not available, in plain words for staff; null when it is. */
  reason: string | null
}

export function resendOption(
  order: Pick<OrderRecord, "status" | "is_draft_order">,
  view: Pick<WorkflowView, "state" | "process_instance_key">,
  webhookConfigured: boolean
): ResendOption {
  const blocker = newProcessBlocker(order)
  if (blocker) {
    return hidden(blocker)
  }
  if (view.state !== "not_started" || view.process_instance_key !== null) {
    return hidden("The workflow already has this order; sending it again would not start anything new.")
  }
  if (!webhookConfigured) {
    return {
      offer: "disabled",
      reason: "Sending is off: this shop has no order webhook configured (the plugin's webhookUrl and webhookSecret).",
    }
  }
  return { offer: "available", reason: null }
}

/**
 * Whether the order may get a fulfillment process at all (the one rule behind "Resend to workflow" and
 * "Restart workflow", shown and enforced); why not, for staff, when it may not. A draft is not placed yet;
 * a canceled or archived order is closed: a process would reserve stock and mail the customer for an order
 * the shop no longer fulfils.
 */
export function newProcessBlocker(order: Pick<OrderRecord, "status" | "is_draft_order">): string | null {
  if (order.is_draft_order === true || order.status === "draft") {
    return "This is a draft order: it goes to the workflow when it is converted to an order."
  }
  if (order.status === "canceled") {
    return "This order is canceled, so it gets no fulfillment process. To fulfil its items after all, create a new order."
  }
  if (order.status === "archived") {
    return "This order is archived, so it gets no fulfillment process."
  }
  return null
}

function hidden(reason: string): ResendOption {
  return { offer: "hidden", reason }
}
