/** Reads orders for the admin routes and turns them into workflow views with the plugin's options. */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys } from "@medusajs/framework/utils"

import { readOrder } from "./order-read"
import { pluginOptions } from "./settings"
import { type OrderRecord, type ViewSettings } from "./workflow-view"

const ORDER_FIELDS = ["id", "display_id", "created_at", "metadata"]

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
  return readOrder<OrderRecord>(container, orderId, ORDER_FIELDS)
}

export async function ordersPlacedSince(container: MedusaContainer, since: Date, limit: number): Promise<OrderRecord[]> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({
    entity: "order",
    fields: ORDER_FIELDS,
    filters: { created_at: { $gte: since } },
    pagination: { take: limit, order: { created_at: "DESC" } },
  })
  return data as OrderRecord[]
}
