import { configManager } from "@medusajs/framework/config"
import type { MedusaContainer } from "@medusajs/framework/types"

import type FulfillmentWorkflowService from "../modules/fulfillment-workflow/service"
import { FULFILLMENT_WORKFLOW_MODULE } from "../modules/fulfillment-workflow"
import { PLUGIN_NAME, type PluginOptions, resolveOptions } from "./options"

/** The plugin's resolved options, as its module holds them. */
export function pluginOptions(container: Pick<MedusaContainer, "resolve">): PluginOptions {
  return container.resolve<FulfillmentWorkflowService>(FULFILLMENT_WORKFLOW_MODULE).getOptions()
}

/**
 * The options as registered in medusa-config.ts, for what Medusa reads before any container exists (a
 * scheduled job's schedule). Null when they are invalid (the plugin's module refuses them at load anyway)
 * or when no Medusa configuration is loaded (outside Medusa).
 */
export function registeredOptions(): PluginOptions | null {
  try {
    const entry = (configManager.config?.plugins ?? []).find(
      (plugin) => typeof plugin !== "string" && plugin.resolve === PLUGIN_NAME
    )
    return resolveOptions(typeof entry === "object" ? entry.options : {})
  } catch {
    return null
  }
}
