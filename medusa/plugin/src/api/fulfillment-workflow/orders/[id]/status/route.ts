/**
 * POST /fulfillment-workflow/orders/{id}/status: the status function's one call per workflow status, with
 * the customer mail that goes with it.
 *
 * Signed with the status function's secret (option `statusSecret`); body {"action": "status", "order_id",
 * "metadata": {workflow keys}, "replaces": [stored statuses this write may replace, null for none],
 * "notification"?: {"template", "data": {"reason"?}}}. Answers 200 {"applied", "reason", "metadata",
 * "notification"?}; 404 for an unknown order, 400 for a malformed body, 401 for a missing or bad signature.
 * The work is the record-workflow-status workflow (../../../../../workflows/record-workflow-status.ts).
 */
import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import type { StatusWrite } from "../../../../../lib/status-write"
import { recordWorkflowStatusWorkflow } from "../../../../../workflows/record-workflow-status"

export async function POST(req: MedusaRequest<StatusWrite>, res: MedusaResponse): Promise<void> {
  const { result } = await recordWorkflowStatusWorkflow(req.scope).run({
    input: { order_id: req.params.id, write: req.validatedBody },
  })
  res.json(result)
}
