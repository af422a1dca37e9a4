/**
 * The compare-and-set behind POST /fulfillment-workflow/orders/{id}/status, without Medusa: the body, the
 * decision and the keys it touches. The caller (the status function) owns the rank rules and says which
 * stored statuses its write may replace; this side only compares, so the rules live in one place.
 */
import { z } from "@medusajs/framework/zod"

import { NotificationRequestSchema } from "./notification"
import { ORDER_ID } from "./route-bodies"

/** The keys the workflow owns on an order's metadata; every other key belongs to someone else. */
export const WORKFLOW_KEY = /^(workflow_[a-z0-9_]+|last_updated)$/

/** The plugin's own mail markers (./notification.ts): only the plugin writes them, after the mail went out. */
const MAIL_MARKER_KEY = /^workflow_mail_/

const workflowValue = z.union([z.string().max(2_000), z.number(), z.boolean(), z.null()])

export const StatusWriteSchema = z
  .object({
    action: z.literal("status"),
    order_id: ORDER_ID,
    metadata: z
      .record(z.string(), workflowValue)
      .refine((metadata) => Object.keys(metadata).every((key) => WORKFLOW_KEY.test(key)), {
        message: "only workflow keys (workflow_* and last_updated) may be written",
      })
      .refine((metadata) => !Object.keys(metadata).some((key) => MAIL_MARKER_KEY.test(key)), {
        message: "workflow_mail_* keys are written by the plugin itself",
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

export interface StoredOrder {
  status: string
  metadata: Record<string, unknown> | null
}

export type Decision = { apply: true } | { apply: false; reason: NotAppliedReason }

/**
 * The workflow statuses a canceled order still takes: those that end a process without fulfilling the
 * order (the cancel itself, and the failures whose path canceled it or was refused the cancel).
 */
export const STATUSES_OF_A_CANCELED_ORDER: readonly string[] = ["canceled", "payment_failed", "out_of_stock", "cancel_refused"]

/** Whether `write` may land on `order`: a status a canceled order takes, replacing a listed stored status. */
export function decide(order: StoredOrder, write: Pick<StatusWrite, "metadata" | "replaces">): Decision {
  const written = write.metadata.workflow_status
  if (order.status === "canceled" && !STATUSES_OF_A_CANCELED_ORDER.includes(String(written))) {
    return { apply: false, reason: "order_canceled" }
  }
  return write.replaces.includes(storedStatus(order)) ? { apply: true } : { apply: false, reason: "stale" }
}

/**
 * Whether the order carries the written status after the decision: written now, or written before (the
 * caller retrying after a lost answer). Only a recorded status sends its mail.
 */
export function isRecorded(order: StoredOrder, write: Pick<StatusWrite, "metadata">, decision: Decision): boolean {
  if (decision.apply) return true
  return decision.reason === "stale" && storedStatus(order) === write.metadata.workflow_status
}

/** The stored `workflow_status`, null when none is stored (the empty string included). */
export function storedStatus(order: Pick<StoredOrder, "metadata">): string | null {
  const stored = order.metadata?.workflow_status
  return typeof stored === "string" && stored !== "" ? stored : null
}

/** The workflow's keys of `metadata` (what the route answers with). */
export function workflowKeys(metadata: Record<string, unknown> | null): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => WORKFLOW_KEY.test(key)))
}
