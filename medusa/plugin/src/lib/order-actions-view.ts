/**
 * What the admin routes of the order actions answer (./order-actions.ts), as the widget reads it. Types
 * only, so the admin bundle imports nothing of the server.
 */

/** The latest restart, as recorded on the order's row. */
export interface RestartRecord {
  number: number
  /** The admin user's id (the auth context's actor id). */
  by: string
  /** The user's email where Medusa still knows the user (added when read, never stored). */
  by_email?: string | null
  reason: string
  at: string
  previous_status: string | null
  previous_instance: string | null
}

export interface RetryRecord {
  incident_key: string
  element_id: string | null
  by: string
  by_email?: string | null
  at: string
}

/** An open incident as the widget shows it. */
export interface IncidentView {
  incident_key: string
  process_instance_key: string
  message: string
  error_type: string
  element_id: string | null
  created_at: string | null
  retryable: boolean
}

/** The answer of GET /admin/fulfillment-workflow/orders/{id}/actions. */
export interface OrderActionsAnswer {
  /** Null when Camunda could be asked; otherwise why not, in plain words. */
  camunda_problem: string | null
  incidents: IncidentView[]
  /** The ACTIVE instances Camunda knows for the order (null: not known). */
  active_instances: string[] | null
  restart: { offer: "available" | "hidden"; reason: string | null }
  last_restart: RestartRecord | null
  last_retry: RetryRecord | null
}


/** The answer of POST /admin/fulfillment-workflow/orders/{id}/restart. */
export interface RestartAnswer {
  order_id: string
  /** The order webhook's answer: "started" (or "duplicate" when this restart was sent before). */
  status: string
  restart: RestartRecord
}

/** The answer of POST /admin/fulfillment-workflow/orders/{id}/incidents/{key}/retry. */
export interface RetryAnswer {
  order_id: string
  retry: RetryRecord
}
