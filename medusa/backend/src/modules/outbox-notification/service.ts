/**
 * The demo shop's Notification Module provider for the `email` channel: instead of mailing, it renders
 * the mail (./render.ts) and writes it as one JSON file per order and template into a directory (the
 * provider option `directory`; devstack passes its outbox), so the demo and the tests can read what the
 * customer would get. Without a directory it only logs the mail.
 *
 * File `<order_id>.<template>.json`: {order_id, template, to, subject, body, created_at, channel}. Written
 * atomically, and the first writer wins: a second notification for the same order and template leaves the
 * file as it is.
 */
import type { Logger, ProviderSendNotificationDTO, ProviderSendNotificationResultsDTO } from "@medusajs/framework/types"
import { AbstractNotificationProviderService, MedusaError } from "@medusajs/framework/utils"
import { randomUUID } from "node:crypto"
import { linkSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"

import { type MailData, renderMail } from "./render"

export interface OutboxOptions {
  /** Where the mails are written; unset: they are only logged. */
  directory?: string
}

/** An order id as Medusa makes them: it becomes part of a file name. */
const ORDER_ID = /^order_[A-Za-z0-9]{1,58}$/

export default class OutboxNotificationService extends AbstractNotificationProviderService {
  static identifier = "outbox-notification"

  private readonly logger: Logger
  private readonly directory: string | undefined

  constructor({ logger }: { logger: Logger }, options: OutboxOptions = {}) {
    super()
    this.logger = logger
    this.directory = options.directory || undefined
  }

  async send(notification: ProviderSendNotificationDTO): Promise<ProviderSendNotificationResultsDTO> {
    const data = (notification.data ?? {}) as unknown as MailData
    if (!ORDER_ID.test(String(data.order_id))) {
      throw new MedusaError(MedusaError.Types.INVALID_DATA, "the notification's data names no order")
    }
    const mail = renderMail(notification.template, data)
    const key = `${data.order_id}.${notification.template}`
    if (!this.directory) {
      this.logger.info(`demo shop mail to ${notification.to}: ${mail.subject}`)
      return { id: key }
    }
    const document = {
      order_id: data.order_id,
      template: notification.template,
      to: notification.to,
      subject: mail.subject,
      body: mail.body,
      created_at: new Date().toISOString(),
      channel: "medusa",
    }
    const written = writeOnce(this.directory, `${key}.json`, JSON.stringify(document, null, 2))
    this.logger.info(`demo shop mail ${key}: ${written ? "written to the outbox" : "already in the outbox"}`)
    return { id: key }
  }
}

/** Writes `name` in `directory` unless it exists; true when this call wrote it. */
function writeOnce(directory: string, name: string, content: string): boolean {
  mkdirSync(directory, { recursive: true })
  const temporary = join(directory, `.tmp-${randomUUID()}.json`)
  writeFileSync(temporary, content, { encoding: "utf-8", mode: 0o644 })
  try {
    // link() fails when the target exists: of two senders racing on one mail, the first one wins.
    linkSync(temporary, join(directory, name))
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false
    throw error
  } finally {
    unlinkSync(temporary)
  }
}
