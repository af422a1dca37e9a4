/**
 * GET /admin/fulfillment-workflow/summary?limit=N: among the newest N (default 100, at most 200) orders
 * placed in the last week, those whose workflow failed or stalled. Drafts and canceled orders are left out.
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"

import { recentOpenOrders, summaryPage, viewSettings } from "../../../../lib/admin-view"
import { attentionSummary } from "../../../../lib/workflow-view"

export async function GET(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const now = Date.now()
  const page = summaryPage(req.query, now)
  const orders = await recentOpenOrders(req.scope, page)
  res.json(attentionSummary(orders, viewSettings(req.scope), page, now))
}
