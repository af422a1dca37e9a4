/** GET /admin/fulfillment-workflow/summary: the recent orders whose workflow failed or stalled. */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { ordersPlacedSince, viewSettings } from "../../../../lib/admin-view"
import { attentionSummary } from "../../../../lib/workflow-view"

/** "Recent" for the orders list: placed within the last week. */
const RECENT_MS = 7 * 24 * 3_600_000
/** A bound on the work of one request; a shop with more orders a week sees the newest ones. */
const MAX_ORDERS = 1_000

export async function GET(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const now = Date.now()
  const since = new Date(now - RECENT_MS)
  const orders = await ordersPlacedSince(req.scope, since, MAX_ORDERS)
  res.json(attentionSummary(orders, viewSettings(req.scope), since, now))
}
