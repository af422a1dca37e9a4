import { type PluginOptions, resolveOptions } from "../../lib/options"

/**
 * Holds the plugin's resolved options for the subscriber, the job, the workflow and the routes
 * (Medusa passes a plugin's options to its modules, and only to them). Resolved again here rather
 * than shared with the loader: the two get the same input, so they agree.
 */
export default class FulfillmentWorkflowService {
  private readonly options: PluginOptions

  constructor(_container: Record<string, unknown>, options: unknown) {
    this.options = resolveOptions(options)
  }

  getOptions(): PluginOptions {
    return this.options
  }
}
