/** GET /admin/fulfillment-workflow/orders/{id}: the order's workflow as the admin widget shows it. */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { orderRecord, viewSettings } from "../../../../../lib/admin-view"
import { workflowView } from "../../../../../lib/workflow-view"

export async function GET(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const order = await orderRecord(req.scope, req.params.id)
  res.json({ workflow: workflowView(order, viewSettings(req.scope)) })
}
