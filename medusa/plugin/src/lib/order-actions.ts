/**
 * The admin's actions on an order's process, behind the order page's widget: restart a lost process, and
 * show and retry the process's incidents. Both ask Camunda (the plugin's own client, option `camunda`)
 * before they change anything, and refuse with a plain sentence when it cannot be asked.
 *
 * - Restart: only for an open order whose stored status is not final, and only when Camunda answers that
 *   no ACTIVE instance of `order-fulfillment` runs for the order. The restart is recorded first (who, why,
 *   when, in one conditional statement), then sent through the one start path: the signed `order.placed`
 *   webhook, which carries the restart's number (docs/contracts.md, "Order webhook").
 * - Retry: the incident must be an open incident of the order's process; the job gets its retries back
 *   (one, as Camunda Operate's retry gives it) and the incident is resolved; who retried is recorded.
 */
import type { MedusaContainer } from "@medusajs/framework/types"
import { MedusaError } from "@medusajs/framework/utils"
import { z } from "@medusajs/framework/zod"

import {
  CamundaClient,
  CamundaRefused,
  CamundaRejected,
  CamundaUnavailable,
  type Incident,
  type ProcessInstance,
} from "./camunda-client"
import type { CamundaOptions, PluginOptions } from "./options"
import type { IncidentView, OrderActionsAnswer, RestartRecord, RetryRecord } from "./order-actions-view"
import { mirrorWorkflowState } from "./order-status"
import { pluginOptions } from "./settings"
import { COMPLETED_STATUS, CANCELED_STATUS, FAILURE_STATUSES } from "./workflow-status"
import { workflowModule, workflowStateOf } from "./workflow-store"
import { newProcessBlocker, type OrderRecord } from "./workflow-view"

/** Retries a retried job gets back: one, as Camunda Operate's "Retry" gives a job that has none. */
export const RETRY_JOB_RETRIES = 1
/** The stored statuses that end a process: restarting such an order would fulfil it a second time. */
export const FINAL_STATUSES: readonly string[] = [
  COMPLETED_STATUS,
  CANCELED_STATUS,
  ...FAILURE_STATUSES,
]
export const MAX_REASON_LENGTH = 500

export const RestartBodySchema = z
  .object({ reason: z.string().trim().min(1, "a reason is required").max(MAX_REASON_LENGTH) })
  .strict()

/** A refusal the routes answer with its status and sentence; nothing was changed. */
export class ActionRefused extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
    this.name = "ActionRefused"
  }
}

interface ActionState {
  version: number
  status: string | null
  instance_key: string | null
  restart_count?: number
  last_restart?: RestartRecord | null
  last_retry?: RetryRecord | null
}

const clients = new WeakMap<CamundaOptions, CamundaClient>()

/** The plugin's Camunda client (one per options, so its token is reused), or null when not configured. */
export function camundaClientOf(options: PluginOptions): CamundaClient | null {
  const camunda = options.camunda
  if (!camunda) return null
  let client = clients.get(camunda)
  if (!client) {
    client = new CamundaClient({
      restUrl: camunda.restUrl,
      timeoutMs: camunda.timeoutMs,
      oauth: camunda.tokenUrl
        ? {
            tokenUrl: camunda.tokenUrl,
            clientId: camunda.clientId ?? "",
            clientSecret: camunda.clientSecret ?? "",
            audience: camunda.audience,
            scope: camunda.scope,
          }
        : undefined,
    })
    clients.set(camunda, client)
  }
  return client
}

export const NOT_CONFIGURED =
  "Camunda cannot be asked: this shop has not configured the plugin's Camunda client (option camunda.restUrl)."

/** A Camunda failure as a sentence for staff (never the credentials). */
export function camundaProblem(error: unknown): string {
  if (error instanceof CamundaRefused) {
    return "Camunda refused the plugin's client credentials; ask whoever runs the shop to check the camunda options."
  }
  if (error instanceof CamundaUnavailable) {
    return `Camunda cannot be reached now (${error.message}); try again in a minute.`
  }
  if (error instanceof CamundaRejected) {
    return `Camunda refused the request (${error.status} ${error.title}${error.detail ? `: ${error.detail}` : ""}).`
  }
  throw error
}

/** Whether "Restart workflow" applies to the order at all, before Camunda is asked; the reason if not. */
export function restartBlocker(order: Pick<OrderRecord, "status" | "is_draft_order">, stored: string | null): string | null {
  const closed = newProcessBlocker(order)
  if (closed) {
    return closed
  }
  if (stored !== null && FINAL_STATUSES.includes(stored)) {
    return "The order's process has ended; restarting it would run the order a second time."
  }
  return null
}

/** The incident as the widget shows it; a job's incident can be retried (the job gets retries back). */
export function incidentView(incident: Incident): IncidentView {
  return {
    incident_key: incident.incidentKey,
    process_instance_key: incident.processInstanceKey,
    message: incident.errorMessage || incident.errorType,
    error_type: incident.errorType,
    element_id: incident.elementId,
    created_at: incident.creationTime,
    retryable: true,
  }
}

async function stateOf(container: MedusaContainer, orderId: string): Promise<ActionState | null> {
  const state = (await workflowStateOf(container, [orderId])).get(orderId)
  return (state as ActionState | undefined) ?? null
}

/**
 * The process instances whose incidents are the order's: the instance the order's row names, and the ACTIVE
 * instances Camunda finds for the order (an instance that failed before it reported has no row yet).
 */
function instanceKeys(stored: string | null, active: readonly ProcessInstance[]): string[] {
  const keys = new Set(active.map((instance) => instance.processInstanceKey))
  if (stored && /^\d+$/.test(stored)) keys.add(stored)
  return [...keys]
}

/** What the widget shows about the order's actions: incidents, whether a restart is offered, the records. */
export async function orderActions(container: MedusaContainer, order: OrderRecord): Promise<OrderActionsAnswer> {
  const state = await stateOf(container, order.id)
  const answer: OrderActionsAnswer = {
    camunda_problem: null,
    incidents: [],
    active_instances: null,
    restart: { offer: "hidden", reason: null },
    last_restart: await withEmail(container, state?.last_restart ?? null),
    last_retry: await withEmail(container, state?.last_retry ?? null),
  }
  const blocker = restartBlocker(order, state?.status ?? null)
  const client = camundaClientOf(pluginOptions(container))
  if (!client) {
    return { ...answer, camunda_problem: NOT_CONFIGURED, restart: { offer: "hidden", reason: blocker ?? NOT_CONFIGURED } }
  }
  try {
    const active = await client.activeInstancesOfOrder(order.id)
    const incidents = await client.openIncidents(instanceKeys(state?.instance_key ?? null, active))
    const running = active.length > 0
    return {
      ...answer,
      incidents: incidents.map(incidentView),
      active_instances: active.map((instance) => instance.processInstanceKey),
      restart: blocker || running ? { offer: "hidden", reason: blocker ?? runningSentence(active) } : { offer: "available", reason: null },
    }
  } catch (error) {
    const problem = camundaProblem(error)
    return { ...answer, camunda_problem: problem, restart: { offer: "hidden", reason: blocker ?? problem } }
  }
}

function runningSentence(active: readonly ProcessInstance[]): string {
  return `A process instance (${active.map((i) => i.processInstanceKey).join(", ")}) still runs for this order; there is nothing to restart.`
}

/**
 * Restarts the order's process: refuses (ActionRefused, nothing changed) unless the order may be restarted
 * and Camunda confirms that no instance runs for it; then records the restart and sends the restart's
 * `order.placed`. Answers the recorded restart; the caller sends the event.
 */
export async function recordRestart(
  container: MedusaContainer,
  order: OrderRecord,
  actorId: string,
  reason: string,
  now = new Date()
): Promise<RestartRecord> {
  const state = await stateOf(container, order.id)
  const blocker = restartBlocker(order, state?.status ?? null)
  if (blocker) throw new ActionRefused(409, blocker)
  const client = camundaClientOf(pluginOptions(container))
  if (!client) throw new ActionRefused(503, `${NOT_CONFIGURED} Nothing was restarted.`)
  let active: ProcessInstance[]
  try {
    active = await client.activeInstancesOfOrder(order.id)
  } catch (error) {
    throw new ActionRefused(503, `${camundaProblem(error)} Nothing was restarted.`)
  }
  if (active.length > 0) throw new ActionRefused(409, runningSentence(active))
  const row = await workflowModule(container).recordRestart(
    order.id,
    state?.version ?? 0,
    { by: actorId, reason, at: now.toISOString() },
    FINAL_STATUSES
  )
  if (!row) {
    throw new ActionRefused(409, "The order's workflow changed meanwhile (another restart, or a new status); nothing was restarted. Reload and look again.")
  }
  await mirrorWorkflowState(container, row)
  return (row as unknown as { last_restart: RestartRecord }).last_restart
}

/** Retries one of the order's open incidents; ActionRefused when Camunda cannot be asked or refuses. */
export async function retryIncident(
  container: MedusaContainer,
  orderId: string,
  incidentKey: string,
  actorId: string,
  now = new Date()
): Promise<RetryRecord> {
  if (!/^\d{1,20}$/.test(incidentKey)) {
    throw new MedusaError(MedusaError.Types.INVALID_DATA, "The incident key must be digits.")
  }
  const client = camundaClientOf(pluginOptions(container))
  if (!client) throw new ActionRefused(503, `${NOT_CONFIGURED} Nothing was retried.`)
  const state = await stateOf(container, orderId)
  try {
    const active = await client.activeInstancesOfOrder(orderId)
    const incidents = await client.openIncidents(instanceKeys(state?.instance_key ?? null, active))
    const incident = incidents.find((candidate) => candidate.incidentKey === incidentKey)
    if (!incident) {
      throw new ActionRefused(404, "This incident is not open for this order's process (resolved meanwhile?).")
    }
    if (incident.jobKey) await client.setJobRetries(incident.jobKey, RETRY_JOB_RETRIES)
    await client.resolveIncident(incident.incidentKey)
    const record: RetryRecord = { incident_key: incident.incidentKey, element_id: incident.elementId, by: actorId, at: now.toISOString() }
    await workflowModule(container).recordRetry(orderId, { ...record })
    return record
  } catch (error) {
    if (error instanceof ActionRefused) throw error
    throw new ActionRefused(error instanceof CamundaRejected ? 409 : 503, camundaProblem(error))
  }
}

/** The record with the user's email, when Medusa's user module still knows the user. */
async function withEmail<T extends { by: string }>(container: MedusaContainer, record: T | null): Promise<T | null> {
  if (!record) return null
  try {
    const users = container.resolve("user") as { retrieveUser(id: string): Promise<{ email?: string | null }> }
    const user = await users.retrieveUser(record.by)
    return { ...record, by_email: user.email ?? null }
  } catch {
    return { ...record, by_email: null }
  }
}
