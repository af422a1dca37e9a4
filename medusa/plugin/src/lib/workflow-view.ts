/**
 * What the admin shows about an order's fulfillment workflow, computed from the order's workflow keys (as
 * the plugin's module holds them, not the order's metadata) and the plugin's options. Pure functions: the
 * admin routes call them, the unit tests drive them directly.
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
}

const STEP_NAMES: readonly StepName[] = ["payment", "inventory", "notification"]

// The marks of payment, inventory and notification for each status. `failed` is kept for orders written by
// earlier versions of the process (the reservation step's timer); it marks the inventory step.
const STEP_MARKS: Record<WorkflowStatus, readonly [StepMark, StepMark, StepMark]> = {
  started: ["pending", "pending", "pending"],
  awaiting_payment: ["pending", "pending", "pending"],
  payment_verified: ["done", "pending", "pending"],
  inventory_reserved: ["done", "done", "pending"],
  completed: ["done", "done", "done"],
  payment_failed: ["failed", "pending", "pending"],
  out_of_stock: ["done", "failed", "pending"],
  // Payment or stock failed and Medusa refused to cancel the order (e.g. it has a fulfillment): the message
  // says which, and staff decide; no step can be marked from the status alone.
  cancel_refused: ["pending", "pending", "pending"],
  failed: ["done", "failed", "pending"],
  canceled: ["pending", "pending", "pending"],
}
const NOTHING_DONE = ["pending", "pending", "pending"] as const

export function workflowView(order: OrderRecord, settings: ViewSettings, now = Date.now()): WorkflowView {
  const keys = order.workflow ?? {}
  const raw = text(keys[KEYS.status])
  const status = isWorkflowStatus(raw) ? raw : null
  const state = stateOf(raw, status)
  const lastUpdated = text(keys[KEYS.lastUpdated])
  const instanceKey = text(keys[KEYS.instance])
  const marks = status ? STEP_MARKS[status] : NOTHING_DONE
  return {
    order_id: order.id,
    status: raw,
    state,
    steps: STEP_NAMES.map((name, index) => ({ name, mark: marks[index] })),
    message: text(keys[KEYS.message]),
    last_updated: lastUpdated,
    process_instance_key: instanceKey,
    operate_url: operateUrl(settings.operateBaseUrl, instanceKey),
    stalled:
      status !== AWAITING_PAYMENT_STATUS &&
      isStalled(state, lastUpdated ?? dateText(order.created_at), settings.stalledAfterMs, now),
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

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null
}

function dateText(value: string | Date | null | undefined): string | null {
  if (value instanceof Date) return value.toISOString()
  return text(value)
}

export interface AttentionOrder {
  id: string
  display_id: number | null
  status: string | null
  message: string | null
  last_updated: string | null
}

export interface AttentionSummary {
  since: string
  checked: number
  failed: AttentionOrder[]
  stalled: AttentionOrder[]
}

/** The recent orders staff should look at: those whose workflow failed, and those that stalled. */
export function attentionSummary(
  orders: OrderRecord[],
  settings: ViewSettings,
  since: Date,
  now = Date.now()
): AttentionSummary {
  const summary: AttentionSummary = { since: since.toISOString(), checked: orders.length, failed: [], stalled: [] }
  for (const order of orders) {
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
