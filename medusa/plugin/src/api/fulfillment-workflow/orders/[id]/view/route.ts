/**
 * POST /fulfillment-workflow/orders/{id}/view: the order as the worker needs it, in one answer.
 *
 * Signed with the worker's secret (option `workerSecret`); body {"action": "view", "order_id"} (checked in
 * ../../../../middlewares.ts). Answers 200 {"order": {...}} (../../../../../lib/worker-view.ts), 404 for an
 * unknown order, 400 for a malformed body, 401 for a missing or bad signature.
 */
import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { readWorkerView } from "../../../../../lib/order-worker"

export async function POST(req: MedusaRequest, res: MedusaResponse): Promise<void> {
  res.json(await readWorkerView(req.scope, req.params.id))
}
