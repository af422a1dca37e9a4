/** Reads orders for the admin routes and turns them into workflow views with the plugin's options. */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, MedusaError } from "@medusajs/framework/utils"
import { z } from "@medusajs/framework/zod"

import { webhookTarget } from "./options"
import { readOrder } from "./order-read"
import { pluginOptions } from "./settings"
import { workflowMetadata } from "./workflow-state"
import { workflowStateOf } from "./workflow-store"
import {
  CLOSED_ORDER_STATUSES,
  newProcessBlocker,
  type OrderRecord,
  type ResendOption,
  type SummaryPage,
  type ViewSettings,
  type WorkflowView,
} from "./workflow-view"

const ORDER_FIELDS = ["id", "display_id", "created_at", "status", "is_draft_order"]

/** "Recent" for the orders list: placed within the last week. */
export const SUMMARY_WINDOW_MS = 7 * 24 * 3_600_000
/** Orders one summary reads unless the request asks for fewer; the newest come first. */
export const SUMMARY_DEFAULT_LIMIT = 100
/** The most one request may ask for: the summary is read again every few minutes by every open admin. */
export const SUMMARY_MAX_LIMIT = 200

const SummaryQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(SUMMARY_MAX_LIMIT).default(SUMMARY_DEFAULT_LIMIT),
})

/** The page GET /admin/fulfillment-workflow/summary reads: `?limit=` (1-200) of the last week's orders. */
export function summaryPage(query: unknown, now = Date.now()): SummaryPage {
  const parsed = SummaryQuerySchema.safeParse(query ?? {})
  if (!parsed.success) {
    throw new MedusaError(MedusaError.Types.INVALID_DATA, `limit must be a whole number from 1 to ${SUMMARY_MAX_LIMIT}`)
  }
  return { since: new Date(now - SUMMARY_WINDOW_MS), limit: parsed.data.limit }
}

/** The answer of GET /admin/fulfillment-workflow/orders/{id}. */
export interface OrderWorkflowAnswer {
  workflow: WorkflowView
  resend: ResendOption
}

/** The answer of POST /admin/fulfillment-workflow/orders/{id}/resend. */
export interface ResendAnswer {
  order_id: string
  /** The order webhook's answer: "started", or "duplicate" when a process already exists. */
  status: string
}

/** The order webhook's status ("started", "duplicate") from the JSON answer to a one-off send. */
export function webhookStatus(body: string): string {
  try {
    const status = (JSON.parse(body) as { status?: unknown } | null)?.status
    return typeof status === "string" ? status : "delivered"
  } catch {
    return "delivered"
  }
}

/**
 * What staff read when the order was canceled between a route's own check and its send (the send reads
 * the order again and sends nothing); `what` names the send: "the resend", "restart 2".
 */
export function canceledWhileSending(what: string): string {
  return `${newProcessBlocker({ status: "canceled" })} It was canceled while ${what} was being sent: nothing was sent.`
}

export function viewSettings(container: Pick<MedusaContainer, "resolve">): ViewSettings {
  const options = pluginOptions(container)
  return { operateBaseUrl: options.operateUrl ?? null, stalledAfterMs: options.stalledAfterMinutes * 60_000 }
}

/** "Resend to workflow" can reach the order webhook only when its URL and secret are set. */
export function webhookConfigured(container: Pick<MedusaContainer, "resolve">): boolean {
  return webhookTarget(pluginOptions(container)) !== null
}

export async function orderRecord(container: MedusaContainer, orderId: string): Promise<OrderRecord> {
  const [order] = await withWorkflow(container, [await readOrder<OrderRecord>(container, orderId, ORDER_FIELDS)])
  return order
}

/**
 * The newest orders of the page that can need attention: drafts and closed orders are left out by the
 * database, so they never take a place in the page.
 */
export async function recentOpenOrders(container: MedusaContainer, page: SummaryPage): Promise<OrderRecord[]> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "order",
    fields: ORDER_FIELDS,
    filters: {
      created_at: { $gte: page.since },
      status: { $nin: [...CLOSED_ORDER_STATUSES] },
      is_draft_order: false,
    },
    pagination: { take: page.limit, order: { created_at: "DESC" } },
  })
  return withWorkflow(container, data as OrderRecord[])
}

/** The orders with their workflow keys from the plugin's module: what staff see is what the process believes. */
async function withWorkflow(container: MedusaContainer, orders: OrderRecord[]): Promise<OrderRecord[]> {
  const states = await workflowStateOf(
    container,
    orders.map((order) => order.id)
  )
  return orders.map((order) => ({ ...order, workflow: workflowMetadata(states.get(order.id)) }))
}
