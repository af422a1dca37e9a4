/**
 * The compare-and-set behind POST /fulfillment-workflow/orders/{id}/status, without Medusa: the body and the
 * rules around the comparison, which the database makes in one statement (the plugin module's service).
 * The caller (the status function) owns the rank rules and says which stored statuses its write may
 * replace; this side only compares, so the rules live in one place.
 */
import { z } from "@medusajs/framework/zod"

import { NotificationRequestSchema } from "./notification"
import { ORDER_ID } from "./route-bodies"
import { WORKFLOW_KEYS } from "./workflow-state"

/** The keys the workflow owns on an order's metadata (mirrored there by the plugin); every other key belongs to someone else. */
export const WORKFLOW_KEY = /^(workflow_[a-z0-9_]+|last_updated)$/

const WRITABLE_KEYS: readonly string[] = WORKFLOW_KEYS

const workflowValue = z.union([z.string().max(2_000), z.number(), z.boolean(), z.null()])

export const StatusWriteSchema = z
  .object({
    action: z.literal("status"),
    order_id: ORDER_ID,
    metadata: z
      .record(z.string(), workflowValue)
      .refine((metadata) => Object.keys(metadata).every((key) => WRITABLE_KEYS.includes(key)), {
        message: `only the workflow keys ${WORKFLOW_KEYS.join(", ")} may be written`,
      })
      .refine((metadata) => typeof metadata.workflow_status === "string" && metadata.workflow_status !== "", {
        message: "workflow_status is required",
      }),
    replaces: z.array(z.string().min(1).nullable()).max(50),
    notification: NotificationRequestSchema.optional(),
  })
  .strict()

export type StatusWrite = z.infer<typeof StatusWriteSchema>

export type NotAppliedReason = "stale" | "order_canceled"

/**
 * The workflow statuses a canceled order still takes: those that end a process without fulfilling the
 * order (the cancel itself, and the failures whose path canceled it or was refused the cancel).
 */
export const STATUSES_OF_A_CANCELED_ORDER: readonly string[] = ["canceled", "payment_failed", "out_of_stock", "cancel_refused"]

/** Whether an order in Medusa's `orderStatus` refuses the written status whatever is stored: a canceled order's rule. */
export function refusedByOrder(orderStatus: string, write: Pick<StatusWrite, "metadata">): boolean {
  return orderStatus === "canceled" && !STATUSES_OF_A_CANCELED_ORDER.includes(String(write.metadata.workflow_status))
}

/**
 * Whether the order carries the written status after the write: written now, or written before (the caller
 * retrying after a lost answer). Only a recorded status sends its mail; an order that refuses the status
 * records nothing.
 */
export function isRecorded(
  outcome: { applied: boolean; reason: NotAppliedReason | null },
  storedAfter: string | null,
  write: Pick<StatusWrite, "metadata">
): boolean {
  if (outcome.applied) return true
  return outcome.reason === "stale" && storedAfter === write.metadata.workflow_status
}
