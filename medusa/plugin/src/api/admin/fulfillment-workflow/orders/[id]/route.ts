/**
 * GET /admin/fulfillment-workflow/orders/{id}: the order's workflow as the admin widget shows it, and whether
 * "Resend to workflow" can do anything for the order (and why not).
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { type OrderWorkflowAnswer, orderRecord, viewSettings, webhookConfigured } from "../../../../../lib/admin-view"
import { resendOption, workflowView } from "../../../../../lib/workflow-view"

export async function GET(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const order = await orderRecord(req.scope, req.params.id)
  const workflow = workflowView(order, viewSettings(req.scope))
  const answer: OrderWorkflowAnswer = { workflow, resend: resendOption(order, workflow, webhookConfigured(req.scope)) }
  res.json(answer)
}
