import { Migration } from "@medusajs/framework/mikro-orm/migrations"

/**
 * The record of the admin's order actions on `order_workflow` (../models/order-workflow.ts): how often
 * staff restarted the order's process and the latest restart (who, why, when), and the latest incident
 * staff retried. Existing rows start with no restart.
 */
export class Migration20261205021500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table if exists "order_workflow" add column if not exists "restart_count" integer not null default 0, add column if not exists "last_restart" jsonb null, add column if not exists "last_retry" jsonb null;`
    )
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table if exists "order_workflow" drop column if exists "restart_count", drop column if exists "last_restart", drop column if exists "last_retry";`
    )
  }
}
