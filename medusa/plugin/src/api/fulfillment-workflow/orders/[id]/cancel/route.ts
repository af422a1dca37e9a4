/**
 * POST /fulfillment-workflow/orders/{id}/cancel: Medusa's cancel of the order, for the worker's failure path.
 *
 * Signed with the worker's secret (option `workerSecret`); body {"action": "cancel", "order_id"}. Answers
 * 200 {"outcome": "canceled" | "already_canceled" | "refused", "reason", "captured_amount",
 * "refunded_amount"}; 404 for an unknown order, 400 for a malformed body, 401 for a missing or bad signature.
 */
import type { MedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { cancelOrder } from "../../../../../lib/order-worker"

export async function POST(req: MedusaRequest, res: MedusaResponse): Promise<void> {
  res.json(await cancelOrder(req.scope, req.params.id))
}
