/** How workflow states, steps and times read in the admin. */
import type { StepMark, StepName, WorkflowState } from "../../lib/workflow-view"

export type BadgeColor = "grey" | "blue" | "green" | "red" | "orange"

export const STATE_COLORS: Record<WorkflowState, BadgeColor> = {
  not_started: "grey",
  running: "blue",
  completed: "green",
  failed: "red",
  unknown: "grey",
}

export const STEP_LABELS: Record<StepName, string> = {
  payment: "Payment",
  inventory: "Inventory",
  notification: "Notification",
}

export const MARK_LABELS: Record<StepMark, string> = { done: "done", failed: "failed", pending: "pending" }

/** "payment_failed" -> "Payment failed"; no status -> "Not started". */
export function statusLabel(status: string | null): string {
  if (!status) return "Not started"
  const words = status.replace(/_/g, " ")
  return words.charAt(0).toUpperCase() + words.slice(1)
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
]
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" })

/** "3 minutes ago", "yesterday", "now"; a time it cannot read, as it is. */
export function relativeTime(iso: string, now = Date.now()): string {
  const elapsed = Date.parse(iso) - now
  if (!Number.isFinite(elapsed)) return iso
  const [unit, size] = UNITS.find(([, size]) => Math.abs(elapsed) >= size) ?? UNITS[UNITS.length - 1]
  return relative.format(Math.round(elapsed / size), unit)
}
