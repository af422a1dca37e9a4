/** Reads orders for the admin routes and turns them into workflow views with the plugin's options. */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

import { readOrder } from "./order-read"
import { pluginOptions } from "./settings"
import { workflowMetadata } from "./workflow-state"
import { workflowStateOf } from "./workflow-store"
import { type OrderRecord, type ViewSettings } from "./workflow-view"

const ORDER_FIELDS = ["id", "display_id", "created_at"]

/** The answer of POST /admin/fulfillment-workflow/orders/{id}/resend. */
export interface ResendAnswer {
  order_id: string
  /** The order webhook's answer: "started", or "duplicate" when a process already exists. */
  status: string
}

export function viewSettings(container: Pick<MedusaContainer, "resolve">): ViewSettings {
  const options = pluginOptions(container)
  return { operateBaseUrl: options.operateUrl ?? null, stalledAfterMs: options.stalledAfterMinutes * 60_000 }
}

export async function orderRecord(container: MedusaContainer, orderId: string): Promise<OrderRecord> {
  const [order] = await withWorkflow(container, [await readOrder<OrderRecord>(container, orderId, ORDER_FIELDS)])
  return order
}

export async function ordersPlacedSince(container: MedusaContainer, since: Date, limit: number): Promise<OrderRecord[]> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "order",
    fields: ORDER_FIELDS,
    filters: { created_at: { $gte: since } },
    pagination: { take: limit, order: { created_at: "DESC" } },
  })
  return withWorkflow(container, data as OrderRecord[])
}

/** The orders with their workflow keys from the plugin's module: what staff see is what the process believes. */
async function withWorkflow(container: MedusaContainer, orders: OrderRecord[]): Promise<OrderRecord[]> {
  const states = await workflowStateOf(container, orders.map((order) => order.id))
  return orders.map((order) => ({ ...order, workflow: workflowMetadata(states.get(order.id)) }))
}
