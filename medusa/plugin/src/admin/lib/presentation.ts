/** How workflow states, steps and times read in the admin. */
import { isWorkflowStatus, type WorkflowStatus } from "../../lib/workflow-status"
import {
  type AttentionSummary,
  isClosedOrder,
  type StepMark,
  type StepName,
  type WorkflowState,
  type WorkflowView,
} from "../../lib/workflow-view"

export type BadgeColor = "grey" | "blue" | "green" | "red" | "orange"

export const STATE_COLORS: Record<WorkflowState, BadgeColor> = {
  not_started: "grey",
  running: "blue",
  completed: "green",
  canceled: "grey",
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

const ISO_DATE_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g

/** "7 Dec, 22:20" in the viewer's time zone; with the year when it is not this year's. */
export function humanDate(iso: string, now = Date.now(), timeZone?: string): string {
  const at = Date.parse(iso)
  if (!Number.isFinite(at)) return iso
  const year = (time: number) => new Intl.DateTimeFormat("en-GB", { year: "numeric", timeZone }).format(time)
  return new Intl.DateTimeFormat("en-GB", {
    day: "numeric",
    month: "short",
    year: year(at) === year(now) ? undefined : "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone,
  }).format(at)
}

/** The workflow's own message with its ISO 8601 times written as human dates. */
export function humanizeTimes(text: string, now = Date.now(), timeZone?: string): string {
  return text.replace(ISO_DATE_TIME, (iso) => humanDate(iso, now, timeZone))
}

/** 5_000 -> "5 seconds", 60_000 -> "1 minute", 90 minutes -> "2 hours" (rounded). */
export function durationWords(ms: number): string {
  const [unit, size] = UNITS.find(([, size]) => ms >= size) ?? UNITS[UNITS.length - 1]
  const count = Math.max(Math.round(ms / size), 1)
  return `${count} ${unit}${count === 1 ? "" : "s"}`
}

/** 60_000 -> "every minute", 15_000 -> "every 15 seconds". */
export function everyWords(ms: number): string {
  return `every ${durationWords(ms).replace(/^1 /, "")}`
}

type Sentence = (view: WorkflowView, now: number, timeZone?: string) => string

/** What each status means for the order, in the words staff use. */
const STATUS_SENTENCES: Record<WorkflowStatus, Sentence> = {
  awaiting_payment: (view, now, timeZone) => {
    const deadline = view.message?.match(ISO_DATE_TIME)?.[0]
    return deadline
      ? `Not paid yet; the workflow checks the payment again until ${humanDate(deadline, now, timeZone)} and cancels the order if it is still unpaid then.`
      : "Not paid yet; the workflow checks the payment again from time to time."
  },
  payment_verified: () => "Payment verified; the stock is reserved next.",
  inventory_reserved: () => "Payment verified and stock reserved; the order is confirmed next.",
  completed: () => "Done: payment verified, stock reserved, order confirmed to the customer.",
  payment_failed: () => "The payment did not come through; the order was canceled in Medusa.",
  out_of_stock: (view) =>
    view.order_status === "canceled"
      ? "Some items are not in stock; the order was canceled in Medusa, as the shop's stock policy says."
      : "Some items are not in stock; the order is held for staff to decide.",
  cancel_refused: () =>
    "The payment or the stock failed, but Medusa refused to cancel the order: staff decide what happens to it.",
  canceled: () => "The order was canceled in Medusa; its workflow ended there.",
}

/** One plain sentence for where the order is; "stalled" is said as the time since the last news. */
export function statusSentence(view: WorkflowView, now = Date.now(), timeZone?: string): string {
  const sentence = stateSentence(view, now, timeZone)
  if (!view.stalled) return sentence
  const since = view.last_updated ? ` since ${humanDate(view.last_updated, now, timeZone)}` : ""
  return `${sentence} No news from the workflow${since}: it may be stuck.`
}

function stateSentence(view: WorkflowView, now: number, timeZone?: string): string {
  if (view.status === null && isClosedOrder({ status: view.order_status })) {
    const closed = view.order_status === "draft" ? "a draft" : view.order_status
    return `Not in the workflow, and nothing will start: the order is ${closed}.`
  }
  if (view.status === null) return "Not in the workflow yet: no process has started for this order."
  if (!isWorkflowStatus(view.status)) return `The workflow reported "${view.status}", a status this admin does not know.`
  return STATUS_SENTENCES[view.status](view, now, timeZone)
}

export interface RefreshState {
  /** Failed reads in a row. */
  failures: number
  /** When the widget reads again; false: never (the workflow has ended). */
  nextReadMs: number | false
  error?: string | null
}

/**
 * How the panel keeps itself current, when staff should know: after a failed read (and when it tries
 * again), and when it looks only now and then. Nothing while it follows a running process or after the end.
 */
export function refreshSentence(refresh: RefreshState, subject = "the workflow status"): string | null {
  const { failures, nextReadMs, error } = refresh
  if (nextReadMs === false) return null
  if (failures > 0) {
    return `Could not load ${subject}${error ? ` (${error})` : ""}; trying again in ${durationWords(nextReadMs)}.`
  }
  return nextReadMs >= 60_000 ? `This panel looks again ${everyWords(nextReadMs)}.` : null
}

/** Which orders the orders list summary looked at, so nobody mistakes a bounded page for all orders. */
export function coverageSentence(summary: AttentionSummary, now = Date.now(), timeZone?: string): string {
  const since = humanDate(summary.since, now, timeZone)
  return summary.checked < summary.limit
    ? `Checked all ${summary.checked} open orders placed since ${since}.`
    : `Checked the newest ${summary.limit} open orders placed since ${since}; older ones are not counted.`
}
