/**
 * POST /admin/fulfillment-workflow/orders/{id}/incidents/{key}/retry: the admin's "Retry" of an open
 * incident of the order's process, after its cause was fixed. Gives the incident's job its retries back and
 * resolves the incident through Camunda's API (as Operate's retry does), then records who retried it.
 * 200 {order_id, retry}; 404 {message} when the incident is not open for the order's process; 409 {message}
 * when Camunda refuses the command; 503 {message} when Camunda cannot be asked.
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { orderRecord } from "../../../../../../../../lib/admin-view"
import { ActionRefused, retryIncident } from "../../../../../../../../lib/order-actions"

export async function POST(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const order = await orderRecord(req.scope, req.params.id)
  try {
    const retry = await retryIncident(req.scope, order.id, req.params.key, req.auth_context.actor_id)
    res.json({ order_id: order.id, retry })
  } catch (error) {
    if (!(error instanceof ActionRefused)) throw error
    res.status(error.status).json({ type: "retry_refused", message: error.message })
  }
}
