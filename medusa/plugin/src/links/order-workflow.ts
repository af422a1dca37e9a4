/**
 * The order's fulfillment workflow state, for Medusa's Query: `order_workflow.*` on an order. Read-only:
 * the row is keyed by the order's id, so the link needs no table of its own and nothing to keep in step.
 */
import { defineLink } from "@medusajs/framework/utils"
import OrderModule from "@medusajs/medusa/order"

import FulfillmentWorkflowModule from "../modules/fulfillment-workflow"

export default defineLink(
  { linkable: OrderModule.linkable.order, field: "id" },
  FulfillmentWorkflowModule.linkable.orderWorkflow,
  { readOnly: true }
)
