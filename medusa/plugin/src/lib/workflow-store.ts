/** Where the plugin reads an order's workflow state: the module's `order_workflow` rows, never metadata. */
import type { MedusaContainer } from "@medusajs/framework/types"

import { FULFILLMENT_WORKFLOW_MODULE } from "../modules/fulfillment-workflow"
import type FulfillmentWorkflowService from "../modules/fulfillment-workflow/service"
import type { OrderWorkflowState } from "./workflow-state"

export function workflowModule(container: Pick<MedusaContainer, "resolve">): FulfillmentWorkflowService {
  return container.resolve<FulfillmentWorkflowService>(FULFILLMENT_WORKFLOW_MODULE)
}

/**
 * The workflow state of each of these orders that has one, by order id. What the status route decides on,
 * the worker's view, the admin and the reconciliation read: a metadata edit by staff or another plugin
 * never changes it.
 */
export async function workflowStateOf(
  container: Pick<MedusaContainer, "resolve">,
  orderIds: readonly string[]
): Promise<Map<string, OrderWorkflowState>> {
  const states = await workflowModule(container).statesOf(orderIds)
  return new Map(states.map((state) => [state.order_id, state]))
}
