import type { Context } from "@medusajs/framework/types"
import type { SqlEntityManager } from "@medusajs/framework/mikro-orm/postgresql"
import { InjectManager, MedusaContext, MedusaService } from "@medusajs/framework/utils"

import { type PluginOptions, resolveOptions } from "../../lib/options"
import type { OrderWorkflowState, WorkflowColumn } from "../../lib/workflow-state"
import OrderWorkflow from "./models/order-workflow"

/** The row's workflow columns, in the order the statements below name them. */
const COLUMNS: readonly WorkflowColumn[] = ["status", "instance_key", "message", "step", "last_updated"]

/** The workflow columns of the row being replaced, kept as `previous` for a compensation to put back. */
const PREVIOUS = `jsonb_build_object(${COLUMNS.map((column) => `'${column}', w."${column}"`).join(", ")})`

/** A restart clears the workflow columns (the last update becomes the restart's time). */
const CLEARED_ON_RESTART = COLUMNS.map((c) => `"${c}" = ${c === "last_updated" ? `EXCLUDED."last_updated"` : "NULL"}`).join(", ")

/** The order exists and Medusa does not show it canceled; locks its row for the statement (see compareAndSetStatus). */
const ORDER_NOT_CANCELED = `EXISTS (SELECT 1 FROM "order" AS o WHERE o."id" = ? AND o."status" <> 'canceled' FOR SHARE OF o)`

export interface CompareAndSet {
  applied: boolean
  /** The row after the statement (applied or not); null when the order has none. */
  state: OrderWorkflowState | null
}

/**
 * The plugin's module: its resolved options (Medusa passes a plugin's options to its modules, and only to
 * them), and the `order_workflow` rows with the writes that must hold across any number of Medusa
 * processes. Each write is one conditional statement, so PostgreSQL's row lock for the duration of that
 * statement is all the locking there is: no lock is held between a read and a write.
 */
export default class FulfillmentWorkflowService extends MedusaService({ OrderWorkflow }) {
  private readonly options: PluginOptions

  constructor(container: Record<string, unknown>, options: unknown) {
    super(container, options)
    this.options = resolveOptions(options)
  }

  getOptions(): PluginOptions {
    return this.options
  }

  /**
   * Writes `columns` to the order's row if its stored status is one of `replaces` (null: no row, or no
   * status, yet) and, with `openOrderOnly`, if Medusa does not show the order canceled. One statement: an
   * insert of the row from a SELECT that holds the order check, whose conflicting update is conditional
   * when null is listed; a conditional update otherwise. The replaced values go to `previous` and
   * `version` counts up.
   *
   * The order check is part of the statement, not a read before it: an order canceled after the caller
   * read it is still refused. It takes a share lock on the order's row (`FOR SHARE`), so a cancel whose
   * transaction has already changed the row makes the statement wait for it and then see it canceled
   * (PostgreSQL re-reads a locked row once its updater commits), and a cancel that comes later waits for
   * this statement instead: a status is written only while the order is not canceled. The order is
   * Medusa's `order` table, in the same database as every module's tables (Medusa's shared connection).
   */
  @InjectManager()
  async compareAndSetStatus(
    orderId: string,
    columns: Partial<Record<WorkflowColumn, string | null>>,
    replaces: readonly (string | null)[],
    options: { openOrderOnly?: boolean } = {},
    @MedusaContext() sharedContext: Context = {}
  ): Promise<CompareAndSet> {
    const manager = sharedContext.manager as SqlEntityManager
    const statuses = replaces.filter((status): status is string => status !== null)
    const noneListed = replaces.includes(null)
    const named = COLUMNS.filter((column) => column in columns)
    const values = named.map((column) => columns[column] ?? null)
    const orderOpen = options.openOrderOnly ? ORDER_NOT_CANCELED : "TRUE"
    const orderOpenParams = options.openOrderOnly ? [orderId] : []
    let rows: OrderWorkflowState[] = []
    if (noneListed) {
      rows = await manager.execute(
        `INSERT INTO "order_workflow" AS w ("order_id", ${named.map((c) => `"${c}"`).join(", ")})
         SELECT ?::text, ${named.map(() => "?::text").join(", ")} WHERE ${orderOpen}
         ON CONFLICT ("order_id") DO UPDATE SET ${assignments(named, "EXCLUDED")}
         WHERE (w."status" IS NULL OR w."status" = ANY(ARRAY[?]::text[])) AND ${orderOpen}
         RETURNING w.*`,
        [orderId, ...values, ...orderOpenParams, statuses, ...orderOpenParams]
      )
    } else if (statuses.length > 0) {
      rows = await manager.execute(
        `UPDATE "order_workflow" AS w SET ${assignments(named, "?")}
         WHERE w."order_id" = ? AND w."status" = ANY(ARRAY[?]::text[]) AND ${orderOpen}
         RETURNING w.*`,
        [...values, orderId, statuses, ...orderOpenParams]
      )
    }
    if (rows.length > 0) {
      return { applied: true, state: rows[0] }
    }
    return { applied: false, state: await this.stateOf(orderId, sharedContext) }
  }

  /**
   * Puts back what the order's row held before the change that made it `version`, unless another change
   * has been applied since (then that change stands). A row that change created is removed.
   */
  @InjectManager()
  async revertStatus(orderId: string, version: number, @MedusaContext() sharedContext: Context = {}): Promise<boolean> {
    const manager = sharedContext.manager as SqlEntityManager
    const restored = await manager.execute(
      `UPDATE "order_workflow" AS w
       SET ${COLUMNS.map((c) => `"${c}" = w."previous"->>'${c}'`).join(", ")},
           "previous" = NULL, "version" = w."version" + 1, "updated_at" = now()
       WHERE w."order_id" = ? AND w."version" = ? AND w."previous" IS NOT NULL
       RETURNING w."order_id"`,
      [orderId, version]
    )
    if (restored.length > 0) return true
    const removed = await manager.execute(
      `DELETE FROM "order_workflow" WHERE "order_id" = ? AND "version" = ? AND "previous" IS NULL RETURNING "order_id"`,
      [orderId, version]
    )
    return removed.length > 0
  }

  /**
   * Marks the mail for `template` as being sent with `claim` (Medusa's idempotency key) if no mail is marked
   * for it yet: true for the one writer that set it.
   */
  @InjectManager()
  async claimMail(orderId: string, template: string, claim: string, @MedusaContext() sharedContext: Context = {}): Promise<boolean> {
    const manager = sharedContext.manager as SqlEntityManager
    const rows = await manager.execute(
      `UPDATE "order_workflow" SET "mail" = "mail" || jsonb_build_object(?::text, ?::text), "updated_at" = now()
       WHERE "order_id" = ? AND ("mail" ->> ?) IS NULL
       RETURNING "order_id"`,
      [template, claim, orderId, template]
    )
    return rows.length > 0
  }

  /** Replaces the claim with the notification's id once Medusa created it; only the claim's holder does. */
  @InjectManager()
  async recordMail(
    orderId: string,
    template: string,
    claim: string,
    notificationId: string,
    @MedusaContext() sharedContext: Context = {}
  ): Promise<void> {
    const manager = sharedContext.manager as SqlEntityManager
    await manager.execute(
      `UPDATE "order_workflow" SET "mail" = "mail" || jsonb_build_object(?::text, ?::text), "updated_at" = now()
       WHERE "order_id" = ? AND ("mail" ->> ?) = ?`,
      [template, notificationId, orderId, template, claim]
    )
  }

  /** Drops the claim of a mail that could not be sent, so a retry sends it. */
  @InjectManager()
  async releaseMail(orderId: string, template: string, claim: string, @MedusaContext() sharedContext: Context = {}): Promise<void> {
    const manager = sharedContext.manager as SqlEntityManager
    await manager.execute(
      `UPDATE "order_workflow" SET "mail" = "mail" - ?::text, "updated_at" = now()
       WHERE "order_id" = ? AND ("mail" ->> ?) = ?`,
      [template, orderId, template, claim]
    )
  }

  /**
   * Records a restart of the order's process if the order's row is still at `expectedVersion` (0: no row
   * yet), so nothing changed since the caller read it and asked Camunda, and its stored status is none of
   * `finalStatuses` (one statement: two admins restarting at once record one restart).
   * The workflow columns are cleared, so the new process's first status applies as on a new order; the
   * lost process's status and instance go into the restart's record. Null when not recorded.
   */
  @InjectManager()
  async recordRestart(
    orderId: string,
    expectedVersion: number,
    record: { by: string; reason: string; at: string },
    finalStatuses: readonly string[],
    @MedusaContext() sharedContext: Context = {}
  ): Promise<(OrderWorkflowState & { restart_count: number }) | null> {
    const manager = sharedContext.manager as SqlEntityManager
    const recordJson = JSON.stringify(record)
    const rows = await manager.execute(
      `INSERT INTO "order_workflow" AS w ("order_id", "last_updated", "restart_count", "last_restart")
       VALUES (?, ?, 1, ?::jsonb || '{"number": 1, "previous_status": null, "previous_instance": null}'::jsonb)
       ON CONFLICT ("order_id") DO UPDATE SET
         ${CLEARED_ON_RESTART},
         "previous" = ${PREVIOUS}, "version" = w."version" + 1, "restart_count" = w."restart_count" + 1,
         "last_restart" = ?::jsonb || jsonb_build_object('number', w."restart_count" + 1,
           'previous_status', w."status", 'previous_instance', w."instance_key"),
         "updated_at" = now()
       WHERE w."version" = ? AND (w."status" IS NULL OR NOT (w."status" = ANY(ARRAY[?]::text[])))
       RETURNING w.*`,
      [orderId, record.at, recordJson, recordJson, expectedVersion, [...finalStatuses]]
    )
    return (rows[0] as (OrderWorkflowState & { restart_count: number }) | undefined) ?? null
  }

  /** Records that staff retried one of the order's incidents: {incident_key, element_id, by, at}. */
  @InjectManager()
  async recordRetry(orderId: string, record: Record<string, string | null>, @MedusaContext() sharedContext: Context = {}): Promise<void> {
    const manager = sharedContext.manager as SqlEntityManager
    await manager.execute(
      `INSERT INTO "order_workflow" AS w ("order_id", "last_retry") VALUES (?, ?::jsonb)
       ON CONFLICT ("order_id") DO UPDATE SET "last_retry" = EXCLUDED."last_retry", "updated_at" = now()`,
      [orderId, JSON.stringify(record)]
    )
  }

  /** The rows of these orders (an order without a row has no workflow state yet). */
  @InjectManager()
  async statesOf(orderIds: readonly string[], @MedusaContext() sharedContext: Context = {}): Promise<OrderWorkflowState[]> {
    if (orderIds.length === 0) return []
    const manager = sharedContext.manager as SqlEntityManager
    return manager.execute(`SELECT * FROM "order_workflow" WHERE "order_id" IN (?)`, [[...orderIds]])
  }

  private async stateOf(orderId: string, sharedContext: Context): Promise<OrderWorkflowState | null> {
    const [state] = await this.statesOf([orderId], sharedContext)
    return state ?? null
  }
}

/** `SET` of the named columns from `source` (EXCLUDED, or "?" for parameters), keeping the replaced values. */
function assignments(named: readonly WorkflowColumn[], source: "EXCLUDED" | "?"): string {
  const values = named.map((c) => `"${c}" = ${source === "?" ? "?" : `EXCLUDED."${c}"`}`)
  return [...values, `"previous" = ${PREVIOUS}`, `"version" = w."version" + 1`, `"updated_at" = now()`].join(", ")
}
