/**
 * GET /admin/fulfillment-workflow/config: the resolved options an operator needs (never a secret).
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { callerSecrets, webhookTarget } from "../../../../lib/options"
import { pluginOptions } from "../../../../lib/settings"

export async function GET(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const options = pluginOptions(req.scope)
  res.json({
    operate_url: options.operateUrl ?? null,
    stalled_after_minutes: options.stalledAfterMinutes,
    webhook_configured: webhookTarget(options) !== null,
    // The signed routes whose caller's secret is set (the others answer 401 to everyone).
    worker_routes_enabled: callerSecrets(options, "worker").length > 0,
    status_route_enabled: callerSecrets(options, "status").length > 0,
    reconciliation: options.reconciliation,
    // The plugin's Camunda client (restart, incident retry): its address, never its credentials.
    camunda: options.camunda
      ? { rest_url: options.camunda.restUrl, oauth: options.camunda.tokenUrl !== undefined }
      : null,
  })
}
