/**
 * POST /admin/fulfillment-workflow/orders/{id}/status: the status function's one call per workflow status.
 *
 * Body {metadata: {workflow keys}, replaces: [stored workflow_status values this write may replace, null
 * for none stored]} (validated in ../../../../../middlewares.ts). Answers 200 {applied, reason, metadata}
 * with the order's workflow keys after the call; 404 for an unknown order; 400 for a malformed body; 401
 * without credentials (every /admin route requires them).
 *
 * Read, decision and write run under a per-order lock of Medusa's Locking Module, so two writers can
 * neither interleave nor move an order backwards; the lock holds across Medusa instances when the shop
 * configures a shared locking provider (PostgreSQL or Redis).
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import type { StatusWrite } from "../../../../../../lib/status-write"
import { writeWorkflowStatus } from "../../../../../../lib/order-status"

export async function POST(req: AuthenticatedMedusaRequest<StatusWrite>, res: MedusaResponse): Promise<void> {
  res.json(await writeWorkflowStatus(req.scope, req.params.id, req.validatedBody))
}
