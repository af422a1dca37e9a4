/**
 * The fulfillment workflow's state of an order as the plugin's module stores it (one `order_workflow` row
 * per order), and its form as the order's metadata keys (docs/contracts.md): what the routes answer and
 * what the plugin mirrors into the order's metadata. Pure functions; the module's service
 * (../modules/fulfillment-workflow/service.ts) runs the writes, ./workflow-store.ts the reads.
 */
import { mailMarkerKey } from "./notification"

/** The workflow keys of an order's metadata, and the column of the order's row that holds each. */
export const WORKFLOW_COLUMNS = {
  workflow_status: "status",
  workflow_instance: "instance_key",
  workflow_message: "message",
  workflow_step: "step",
  last_updated: "last_updated",
} as const

export type WorkflowKey = keyof typeof WORKFLOW_COLUMNS
export type WorkflowColumn = (typeof WORKFLOW_COLUMNS)[WorkflowKey]

export const WORKFLOW_KEYS = Object.keys(WORKFLOW_COLUMNS) as WorkflowKey[]

/** One order's row: every value is text, as it was written. */
export interface OrderWorkflowState {
  order_id: string
  status: string | null
  instance_key: string | null
  message: string | null
  step: string | null
  last_updated: string | null
  /** template -> the notification's id (Medusa's idempotency key while the mail is being sent). */
  mail: Record<string, string>
  /** How many changes were applied to the row. */
  version: number
}

/** A status write's columns: the keys it names, as text (a number or a boolean as its JSON text, "" as none). */
export function columnsOf(metadata: Partial<Record<WorkflowKey, unknown>>): Partial<Record<WorkflowColumn, string | null>> {
  const columns: Partial<Record<WorkflowColumn, string | null>> = {}
  for (const key of WORKFLOW_KEYS) {
    if (key in metadata) {
      columns[WORKFLOW_COLUMNS[key]] = asText(metadata[key])
    }
  }
  return columns
}

/** The order's workflow keys as metadata: those with a value, and one `workflow_mail_<template>` per mail. */
export function workflowMetadata(state: OrderWorkflowState | null | undefined): Record<string, string> {
  if (!state) return {}
  const metadata: Record<string, string> = {}
  for (const key of WORKFLOW_KEYS) {
    const value = state[WORKFLOW_COLUMNS[key]]
    if (value !== null) metadata[key] = value
  }
  for (const [template, marker] of Object.entries(state.mail ?? {})) {
    metadata[mailMarkerKey(template)] = marker
  }
  return metadata
}

/**
 * What the mirror merges into the order's metadata: every workflow key of the row as text, and "" (which
 * Medusa's metadata merge takes as "delete this key") for a key the row holds no value for (all of them for
 * an order without a row). Only these keys
 * are sent: the order module merges them, so every other key stays as it is.
 */
export function mirrorOf(state: OrderWorkflowState | null): Record<string, string> {
  const absent = Object.fromEntries(WORKFLOW_KEYS.map((key) => [key, ""]))
  return { ...absent, ...workflowMetadata(state) }
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null
  return typeof value === "string" ? value : JSON.stringify(value)
}
