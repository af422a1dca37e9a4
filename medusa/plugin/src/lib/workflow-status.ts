/**
 * The values of an order's `metadata.workflow_status`, as the status function writes them
 * (fulfillment/workflow.py is the source; a unit test there checks that these lists agree with it).
 */
export const RUNNING_STATUSES = ["started", "awaiting_payment", "payment_verified", "inventory_reserved"] as const
export const COMPLETED_STATUS = "completed" as const
/** Ended because staff canceled the order in Medusa: final, but nothing for staff to act on. */
export const CANCELED_STATUS = "canceled" as const
export const FAILURE_STATUSES = ["payment_failed", "out_of_stock", "cancel_refused", "failed"] as const
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

export function isWorkflowStatus(value: unknown): value is WorkflowStatus {
  return (
    value === COMPLETED_STATUS ||
    value === CANCELED_STATUS ||
    (RUNNING_STATUSES as readonly unknown[]).includes(value) ||
    (FAILURE_STATUSES as readonly unknown[]).includes(value)
  )
}

export function isFailure(status: WorkflowStatus): status is FailureStatus {
  return (FAILURE_STATUSES as readonly string[]).includes(status)
}
