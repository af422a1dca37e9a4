/** One order by id through Medusa's Query, for the plugin's routes. */
import type { MedusaContainer } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, MedusaError } from "@medusajs/framework/utils"

/** The order with the `fields` asked for; Medusa's NOT_FOUND error (a 404 answer) when there is none. */
export async function readOrder<T extends { id: string }>(
  container: Pick<MedusaContainer, "resolve">,
  orderId: string,
  fields: string[]
): Promise<T> {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({ entity: "order", fields, filters: { id: orderId } })
  const order = data[0] as T | undefined
  if (!order) {
    throw new MedusaError(MedusaError.Types.NOT_FOUND, `Order id not found: ${orderId}`)
  }
  return order
}
