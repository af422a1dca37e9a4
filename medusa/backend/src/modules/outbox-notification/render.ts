/**
 * The demo shop's customer mails, rendered from the template and the data the fulfillment workflow
 * plugin hands to the Notification Module (the plugin's README, "The notification templates"). A real
 * shop does the same in its own provider, or in its mail service's templates.
 */

export interface MailData {
  order_id: string
  display_id?: number | null
  items?: { title: string; quantity: number }[]
  total?: number
  currency_code?: string
  reason?: string | null
  money?: {
    outcome: "nothing_taken" | "refunded_in_full" | "partly_refunded"
    captured_amount: number
    refunded_amount: number
  }
}

export interface Mail {
  subject: string
  body: string
}

const DEFAULT_REASONS: Record<string, string> = {
  "order-canceled-payment": "We could not confirm your payment.",
  "order-canceled-stock": "Some items of your order are no longer in stock.",
}

const CLOSING = "Reply to this message if you have questions.\n"

export function renderMail(template: string, data: MailData): Mail {
  const name = orderName(data)
  if (template === "order-confirmation") {
    return {
      subject: `Your order ${name} is confirmed`,
      body:
        `Thank you for your order ${name}.\n\n` +
        `Payment is confirmed and your items are reserved:\n${itemLines(data)}\n\n` +
        `Total: ${money(data.total, data.currency_code)}\nWe will let you know when it ships.\n`,
    }
  }
  if (template in DEFAULT_REASONS) {
    return {
      subject: `Your order ${name} has been canceled`,
      body:
        `We have canceled your order ${name}.\n\n` +
        `Reason: ${data.reason || DEFAULT_REASONS[template]}\n\n` +
        `${moneySentence(data)}\n\n` +
        CLOSING,
    }
  }
  throw new Error(`no mail is written for the template ${template}`)
}

/** What happened to the customer's money, as the plugin read it from the order's payment collections. */
export function moneySentence(data: MailData): string {
  const paid = data.money?.captured_amount ?? 0
  const refunded = data.money?.refunded_amount ?? 0
  switch (data.money?.outcome) {
    case "refunded_in_full":
      return `The ${money(paid, data.currency_code)} you paid has been refunded in full.`
    case "partly_refunded":
      return (
        `Of the ${money(paid, data.currency_code)} you paid, ${money(refunded, data.currency_code)} ` +
        "has been refunded; we will contact you about the rest."
      )
    default:
      return "No money was taken: any authorization on your payment method has been released."
  }
}

function orderName(data: MailData): string {
  return data.display_id !== null && data.display_id !== undefined ? `#${data.display_id}` : data.order_id
}

function itemLines(data: MailData): string {
  return (data.items ?? []).map((item) => `  ${item.quantity} x ${item.title}`).join("\n")
}

function money(amount: number | undefined, currency: string | undefined): string {
  return `${(amount ?? 0).toFixed(2)} ${(currency ?? "").toUpperCase()}`.trim()
}
