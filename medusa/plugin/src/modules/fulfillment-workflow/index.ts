import { Module } from "@medusajs/framework/utils"

import { resolveOptions } from "../../lib/options"
import FulfillmentWorkflowService from "./service"

export const FULFILLMENT_WORKFLOW_MODULE = "fulfillmentWorkflow"

/** Refuses bad options while Medusa loads the plugin, so a misconfigured shop does not start at all. */
async function validateOptions({ options }: { options?: unknown }): Promise<void> {
  resolveOptions(options)
}

export default Module(FULFILLMENT_WORKFLOW_MODULE, {
  service: FulfillmentWorkflowService,
  loaders: [validateOptions],
})
