import type { LoaderOptions } from "@medusajs/framework/types"
import { Module } from "@medusajs/framework/utils"

import { disabledRoutes, resolveOptions } from "../../lib/options"
import FulfillmentWorkflowService from "./service"

export const FULFILLMENT_WORKFLOW_MODULE = "fulfillmentWorkflow"

/**
 * Refuses bad options while Medusa loads the plugin, so a misconfigured shop does not start at all, and
 * says once which signed routes accept nobody because their secret option is not set.
 */
async function validateOptions({ options, logger }: LoaderOptions): Promise<void> {
  const resolved = resolveOptions(options)
  for (const line of disabledRoutes(resolved)) {
    logger?.warn(line)
  }
}

export default Module(FULFILLMENT_WORKFLOW_MODULE, {
  service: FulfillmentWorkflowService,
  loaders: [validateOptions],
})
