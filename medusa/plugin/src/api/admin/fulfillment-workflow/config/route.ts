/**
 * GET /admin/fulfillment-workflow/config: the resolved options the admin needs (never a secret).
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { webhookTarget } from "../../../../lib/options"
import { pluginOptions } from "../../../../lib/settings"

export async function GET(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const options = pluginOptions(req.scope)
  res.json({
    operate_url: options.operateUrl ?? null,
    stalled_after_minutes: options.stalledAfterMinutes,
    webhook_configured: webhookTarget(options) !== null,
    reconciliation: options.reconciliation,
  })
}
