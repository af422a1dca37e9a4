/** The plugin's one way to write an order's metadata; its callers hold the order's lock (./order-status.ts). */
import type { MedusaContainer } from "@medusajs/framework/types"
import { Modules } from "@medusajs/framework/utils"

/**
 * Writes `changes` over the order's `stored` metadata and returns the result. The merge happens here,
 * under the lock, so every other key survives whatever the order module does with the keys it is given.
 */
export async function writeMetadata(
  container: MedusaContainer,
  orderId: string,
  stored: Record<string, unknown>,
  changes: Record<string, unknown>
): Promise<Record<string, unknown>> {
  const metadata = { ...stored, ...changes }
  await container.resolve(Modules.ORDER).updateOrders(orderId, { metadata })
  return metadata
}
