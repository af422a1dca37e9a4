/**
 * The compare-and-set behind POST /admin/fulfillment-workflow/orders/{id}/status, without Medusa: the body,
 * the decision and the keys it touches. The caller (the status function) owns the rank rules and says
 * which stored statuses its write may replace; this side only compares, so the rules live in one place.
 */
import { z } from "@medusajs/framework/zod"

/** The keys the workflow owns on an order's metadata; every other key belongs to someone else. */
export const WORKFLOW_KEY = /^(workflow_[a-z0-9_]+|last_updated)$/

const workflowValue = z.union([z.string().max(2_000), z.number(), z.boolean(), z.null()])

export const StatusWriteSchema = z
  .object({
    metadata: z
      .record(z.string(), workflowValue)
      .refine((metadata) => Object.keys(metadata).every((key) => WORKFLOW_KEY.test(key)), {
        message: "only workflow keys (workflow_* and last_updated) may be written",
      })
      .refine((metadata) => typeof metadata.workflow_status === "string" && metadata.workflow_status !== "", {
        message: "workflow_status is required",
      }),
    replaces: z.array(z.string().min(1).nullable()).max(50),
  })
  .strict()

export type StatusWrite = z.infer<typeof StatusWriteSchema>

export type NotAppliedReason = "stale" | "order_canceled"

export interface StoredOrder {
  status: string
  metadata: Record<string, unknown> | null
}

export type Decision = { apply: true } | { apply: false; reason: NotAppliedReason }

/** Whether `write` may land on `order`: a canceled order is final; otherwise the stored status must be listed. */
export function decide(order: StoredOrder, write: StatusWrite): Decision {
  if (order.status === "canceled") {
    return { apply: false, reason: "order_canceled" }
  }
  const stored = order.metadata?.workflow_status
  const current = typeof stored === "string" && stored !== "" ? stored : null
  return write.replaces.includes(current) ? { apply: true } : { apply: false, reason: "stale" }
}

/** The workflow's keys of `metadata` (what the route answers with). */
export function workflowKeys(metadata: Record<string, unknown> | null): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => WORKFLOW_KEY.test(key)))
}
