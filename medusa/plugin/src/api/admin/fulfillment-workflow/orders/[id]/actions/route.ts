/**
 * GET /admin/fulfillment-workflow/orders/{id}/actions: what the order page's widget shows about the admin's
 * actions on the order's process: its open incidents (message, element, when raised), whether "Restart
 * workflow" is offered (and why not), the latest restart and the latest retried incident. Camunda is asked
 * on each call (the plugin's `camunda` options); when it cannot be, `camunda_problem` says why in plain words.
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { orderRecord } from "../../../../../../lib/admin-view"
import { orderActions } from "../../../../../../lib/order-actions"

export async function GET(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const order = await orderRecord(req.scope, req.params.id)
  res.json(await orderActions(req.scope, order))
}
