/**
 * The values of an order's `metadata.workflow_status`, as the status function writes them
 * (fulfillment/workflow.py is the source; a unit test there checks that these lists agree with it).
 */
export const RUNNING_STATUSES = ["awaiting_payment", "payment_verified", "inventory_reserved"] as const
export const COMPLETED_STATUS = "completed" as const
/** Ended because staff canceled the order in Medusa: final, but nothing for staff to act on. */
export const CANCELED_STATUS = "canceled" as const
/** `cancel_refused`: payment or stock failed and Medusa refused to cancel the order; staff decide. */
export const FAILURE_STATUSES = ["payment_failed", "out_of_stock", "cancel_refused"] as const
/** Waiting for the customer's payment, on purpose: never "stalled". */
export const AWAITING_PAYMENT_STATUS = "awaiting_payment" as const

export type RunningStatus = (typeof RUNNING_STATUSES)[number]
export type FailureStatus = (typeof FAILURE_STATUSES)[number]
export type WorkflowStatus = RunningStatus | typeof COMPLETED_STATUS | typeof CANCELED_STATUS | FailureStatus

/** The metadata keys the status function writes on an order. */
export const WORKFLOW_METADATA_KEYS = {
  instance: "workflow_instance",
  status: "workflow_status",
  message: "workflow_message",
  lastUpdated: "last_updated",
  step: "workflow_step",
} as const

const RUNNING: readonly unknown[] = RUNNING_STATUSES
const FAILURES: readonly unknown[] = FAILURE_STATUSES

export function isWorkflowStatus(value: unknown): value is WorkflowStatus {
  return value === COMPLETED_STATUS || value === CANCELED_STATUS || RUNNING.includes(value) || FAILURES.includes(value)
}

export function isFailure(status: WorkflowStatus): status is FailureStatus {
  return FAILURES.includes(status)
}
