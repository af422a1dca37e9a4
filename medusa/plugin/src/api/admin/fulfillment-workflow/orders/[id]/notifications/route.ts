/**
 * POST /admin/fulfillment-workflow/orders/{id}/notifications: the worker's customer mail, handed to
 * Medusa's Notification Module at most once per order and template.
 *
 * Body {template, to, subject, body} (validated in ../../../../../middlewares.ts). Answers 200 {sent,
 * notification_id}: `sent: false` when this order's notification for the template went out before; 404
 * for an unknown order; 400 for a malformed body; 401 without credentials.
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import type { NotificationSend } from "../../../../../../lib/notification-send"
import { sendOrderNotification } from "../../../../../../lib/order-notification"

export async function POST(req: AuthenticatedMedusaRequest<NotificationSend>, res: MedusaResponse): Promise<void> {
  res.json(await sendOrderNotification(req.scope, req.params.id, req.validatedBody))
}
