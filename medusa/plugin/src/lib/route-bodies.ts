/**
 * The bodies of the plugin's signed routes (docs/contracts.md, "Plugin routes the cloud side calls").
 * Each names its route (`action`) and its order (`order_id`, checked against the path), because the
 * signature covers the body and not the path.
 */
import { z } from "@medusajs/framework/zod"

/** `order_` then letters and digits, at most 64 characters in all: how Medusa names orders. */
export const ORDER_ID = z.string().regex(/^order_[A-Za-z0-9]{1,58}$/, "must be a Medusa order id")

export const ViewBodySchema = z.object({ action: z.literal("view"), order_id: ORDER_ID }).strict()
export type ViewBody = z.infer<typeof ViewBodySchema>

export const CancelBodySchema = z.object({ action: z.literal("cancel"), order_id: ORDER_ID }).strict()
export type CancelBody = z.infer<typeof CancelBodySchema>
