/** How the order actions' records and incidents read in the admin: plain sentences with human dates. */
import type { IncidentView, RestartRecord, RetryRecord } from "../../lib/order-actions-view"
import { humanDate, statusLabel } from "./presentation"

/** A BPMN element id as words: "VerifyPayment" -> "Verify payment", "reserve-inventory" -> "Reserve inventory". */
export function elementWords(elementId: string | null): string {
  if (!elementId) return "an unnamed step"
  const words = elementId
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[-_]+/g, " ")
    .toLowerCase()
    .trim()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function who(record: { by: string; by_email?: string | null }): string {
  return record.by_email || record.by
}

/** "Restarted on 5 Dec, 02:40 by admin@shop.test (restart 1), because: “...”. The lost process had reached Payment verified." */
export function restartSentence(record: RestartRecord, now = Date.now(), timeZone?: string): string {
  const reached = record.previous_status
    ? `The lost process had reached ${statusLabel(record.previous_status)}.`
    : "The lost process had not reported a status."
  return (
    `Restarted on ${humanDate(record.at, now, timeZone)} by ${who(record)} (restart ${record.number}), ` +
    `because: “${record.reason}”. ${reached}`
  )
}

/** "The incident at Verify payment was retried on 5 Dec, 02:50 by admin@shop.test." */
export function retrySentence(record: RetryRecord, now = Date.now(), timeZone?: string): string {
  return `The incident at ${elementWords(record.element_id)} was retried on ${humanDate(record.at, now, timeZone)} by ${who(record)}.`
}

/** "Stopped at Verify payment since 5 Dec, 02:30." */
export function incidentSentence(incident: IncidentView, now = Date.now(), timeZone?: string): string {
  const since = incident.created_at ? ` since ${humanDate(incident.created_at, now, timeZone)}` : ""
  return `Stopped at ${elementWords(incident.element_id)}${since}.`
}
