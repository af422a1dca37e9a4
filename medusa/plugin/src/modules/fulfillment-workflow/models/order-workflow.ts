import { model } from "@medusajs/framework/utils"

/**
 * The fulfillment workflow's state of one order: the truth the status route compares against, the admin
 * shows and the reconciliation checks. The order's metadata only mirrors it (../../../lib/workflow-state.ts).
 *
 * Keyed by the order's id, so the conditional write can name its row without a read and the read-only
 * link (../../../links/order-workflow.ts) joins it to the order. Every value is text, as the status
 * function sends it. `version` counts the applied changes; `previous` is the workflow keys this row held
 * before its last applied change, so a workflow that fails after the write can put them back.
 */
const OrderWorkflow = model.define({ name: "OrderWorkflow", tableName: "order_workflow" }, {
  order_id: model.text().primaryKey(),
  status: model.text().nullable(),
  instance_key: model.text().nullable(),
  message: model.text().nullable(),
  step: model.text().nullable(),
  last_updated: model.text().nullable(),
  /** The customer mails sent: template -> notification id (or Medusa's idempotency key while it is being sent). */
  mail: model.json().default({}),
  version: model.number().default(1),
  previous: model.json().nullable(),
  /** How many times staff restarted the order's process (the admin's "Restart workflow"). */
  restart_count: model.number().default(0),
  /** The latest restart: {number, by, reason, at, previous_status, previous_instance}. */
  last_restart: model.json().nullable(),
  /** The latest incident staff retried: {incident_key, element_id, by, at}. */
  last_retry: model.json().nullable(),
})

export default OrderWorkflow
