/**
 * POST /admin/fulfillment-workflow/orders/{id}/restart, body {"reason"}: the admin's "Restart workflow" for
 * an order whose process was lost (canceled in Operate, lost with a cluster).
 *
 * Refuses, changing nothing, unless Camunda confirms that no instance of the process runs for the order:
 * 409 {message} when one runs, when the order's process has ended or the order is closed; 503 {message}
 * when Camunda cannot be asked (not configured, unreachable, refusing the plugin's client). Otherwise it
 * records the restart (the user, the reason, the time) and sends the restart's signed `order.placed` once:
 * 200 {order_id, status, restart} with the webhook's status (`started`); 409 {message} when the order was
 * canceled after the restart was recorded (the send reads the order again and sends nothing); 502
 * {message} when the webhook could not take it (the restart stays recorded, and "Resend to workflow" sends
 * the same event again).
 */
import type { AuthenticatedMedusaRequest, MedusaResponse } from "@medusajs/framework/http"
import { MedusaError } from "@medusajs/framework/utils"

import { canceledWhileSending, orderRecord, webhookStatus } from "../../../../../../lib/admin-view"
import { ActionRefused, recordRestart, RestartBodySchema } from "../../../../../../lib/order-actions"
import { ORDER_PLACED } from "../../../../../../lib/order-events"
import { sendOrderEventWorkflow } from "../../../../../../workflows"

export async function POST(req: AuthenticatedMedusaRequest, res: MedusaResponse): Promise<void> {
  const body = RestartBodySchema.safeParse(req.body ?? {})
  if (!body.success) {
    throw new MedusaError(MedusaError.Types.INVALID_DATA, `Restart needs a reason: ${body.error.issues[0].message}.`)
  }
  const order = await orderRecord(req.scope, req.params.id)
  let restart
  try {
    restart = await recordRestart(req.scope, order, req.auth_context.actor_id, body.data.reason)
  } catch (error) {
    if (!(error instanceof ActionRefused)) throw error
    res.status(error.status).json({ type: "restart_refused", message: error.message })
    return
  }
  const { result: outcome } = await sendOrderEventWorkflow(req.scope).run({
    input: { order_id: order.id, event: ORDER_PLACED },
  })
  if (outcome.result === "order_canceled") {
    res.status(409).json({ type: "restart_refused", message: canceledWhileSending(`restart ${restart.number}`) })
    return
  }
  if (outcome.result !== "delivered") {
    res.status(502).json({
      type: "webhook_not_delivered",
      message:
        `Restart ${restart.number} was recorded, but the order webhook did not take it (${outcome.result}); ` +
        `"Resend to workflow" sends it again.`,
    })
    return
  }
  res.json({ order_id: order.id, status: webhookStatus(outcome.body), restart })
}
