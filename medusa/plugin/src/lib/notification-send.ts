/**
 * The body of POST /admin/fulfillment-workflow/orders/{id}/notifications and the per-order, per-template
 * marker that makes the mail go out at most once, whichever worker instance asks and however often.
 */
import { z } from "@medusajs/framework/zod"

export const NotificationSendSchema = z
  .object({
    template: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    to: z.string().min(3).max(320),
    subject: z.string().min(1).max(500),
    body: z.string().min(1).max(20_000),
  })
  .strict()

export type NotificationSend = z.infer<typeof NotificationSendSchema>

/** The order's workflow key that records the notification sent for `template` (e.g. workflow_mail_order_confirmation). */
export function mailMarkerKey(template: string): string {
  return `workflow_mail_${template.replace(/-/g, "_")}`
}

/** Medusa's Notification Module skips a notification whose idempotency key it has already sent. */
export function idempotencyKey(orderId: string, template: string): string {
  return `${orderId}.${template}`
}
