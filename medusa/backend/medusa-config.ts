import { defineConfig, loadEnv } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

/** Reads a setting that has no safe default: the backend refuses to start without it. */
function required(name: string): string {
  const value = process.env[name]
  if (!value) {
    throw new Error(`Missing setting ${name}: set it in the environment or in medusa/backend/.env`)
  }
  return value
}

type Options = Record<string, unknown>

/**
 * The fulfillment workflow plugin's options, as a shop passes them: from its own environment (the plugin
 * reads none itself). An unset variable leaves the option unset (its default, or that part off). The
 * tests may add options as JSON in FULFILLMENT_WORKFLOW_OPTIONS, which win, group by group.
 */
function fulfillmentWorkflowOptions(): Options {
  const env = process.env
  const fromEnvironment: Options = {
    webhookUrl: env.ORDER_WEBHOOK_URL,
    webhookSecret: env.ORDER_WEBHOOK_SECRET,
    workerSecret: env.MEDUSA_WORKER_SECRET,
    statusSecret: env.MEDUSA_STATUS_SECRET,
    retry: {
      maxAttempts: env.ORDER_WEBHOOK_MAX_ATTEMPTS,
      baseDelayMs: env.ORDER_WEBHOOK_RETRY_BASE_MS,
      maxDelayMs: env.ORDER_WEBHOOK_RETRY_MAX_MS,
      timeoutMs: env.ORDER_WEBHOOK_TIMEOUT_MS,
    },
    reconciliation: reconciliationOptions(),
    operateUrl: env.CAMUNDA_OPERATE_URL,
    // The plugin's own Camunda client, for the admin's restart and incident retry: it reads instances and
    // incidents and updates jobs and incidents, nothing else (a client of its own, not the worker's).
    camunda: {
      restUrl: env.CAMUNDA_REST_URL,
      tokenUrl: env.CAMUNDA_TOKEN_URL,
      clientId: env.CAMUNDA_CLIENT_ID,
      clientSecret: env.CAMUNDA_CLIENT_SECRET,
      audience: env.CAMUNDA_TOKEN_AUDIENCE,
      scope: env.CAMUNDA_TOKEN_SCOPE,
    },
  }
  return mergeGroups(fromEnvironment, JSON.parse(env.FULFILLMENT_WORKFLOW_OPTIONS || "{}"))
}

/** An interval of 0 turns the reconciliation job off. */
function reconciliationOptions(): Options {
  const env = process.env
  const interval = env.ORDER_WEBHOOK_RECONCILE_INTERVAL_MS
  return {
    ...(interval === "0" ? { enabled: false } : { intervalMs: interval }),
    minAgeMs: env.ORDER_WEBHOOK_RECONCILE_MIN_AGE_MS,
    lookbackMs: env.ORDER_WEBHOOK_RECONCILE_LOOKBACK_MS,
  }
}

function mergeGroups(base: Options, over: Options): Options {
  const merged: Options = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const below = merged[key]
    merged[key] = isGroup(below) && isGroup(value) ? { ...below, ...value } : value
  }
  return merged
}

function isGroup(value: unknown): value is Options {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

/**
 * Medusa's role-based access control is behind the feature flag MEDUSA_FF_RBAC. defineConfig picks its
 * default modules before Medusa reads its feature flags, so a shop that turns the flag on registers the
 * RBAC module itself.
 */
function rbacModules(): { resolve: string }[] {
  return ["true", "1"].includes(process.env.MEDUSA_FF_RBAC ?? "") ? [{ resolve: "@medusajs/medusa/rbac" }] : []
}

/**
 * A shop in production runs Medusa as two kinds of process on one database and one Redis: servers
 * (MEDUSA_WORKER_MODE=server: HTTP only) and workers (MEDUSA_WORKER_MODE=worker: subscribers and scheduled
 * jobs). They share events, workflows and locks only through Redis, and defineConfig registers Medusa's
 * Redis modules by itself only on Medusa Cloud: everywhere else the shop registers them, as here.
 *
 * Without REDIS_URL (the demo, most tests) Medusa keeps its in-process event bus, workflow engine, cache and
 * locking, which hold within one process only: fine for one process, never for a server plus a worker.
 */
function redisModules(redisUrl: string | undefined): Options[] {
  if (!redisUrl) return []
  return [
    // Events go through a BullMQ queue that the worker processes consume; an event's job ends when all of
    // its subscribers have.
    { resolve: "@medusajs/medusa/event-bus-redis", options: { redisUrl } },
    // Workflow executions, their retries and scheduled jobs are stored in Redis, so a long-running
    // workflow survives a restart and a scheduled job runs once across the workers.
    { resolve: "@medusajs/medusa/workflow-engine-redis", options: { redis: { redisUrl } } },
    // Locks (acquireLockStep, the locking module) must hold across every process, not within one.
    {
      resolve: "@medusajs/medusa/locking",
      options: {
        providers: [
          {
            resolve: "@medusajs/medusa/locking-redis",
            id: "locking-redis",
            is_default: true,
            options: { redisUrl },
          },
        ],
      },
    },
    { resolve: "@medusajs/medusa/cache-redis", options: { redisUrl } },
  ]
}

const WORKER_MODES = ["shared", "server", "worker"] as const

/**
 * MEDUSA_WORKER_MODE: "server", "worker", or unset for "shared" (one process does both, as in the demo).
 * Medusa would ignore a misspelt mode and leave the process without one: refuse it instead.
 */
function workerMode(): (typeof WORKER_MODES)[number] | undefined {
  const mode = process.env.MEDUSA_WORKER_MODE
  if (!mode) return undefined
  const known = WORKER_MODES.find((candidate) => candidate === mode)
  if (!known) throw new Error(`MEDUSA_WORKER_MODE must be one of ${WORKER_MODES.join(", ")}, not ${mode}`)
  return known
}

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: required("DATABASE_URL"),
    // Sessions of the admin are kept in Redis too when it is configured, so any server process can serve
    // any logged-in user.
    redisUrl: process.env.REDIS_URL,
    workerMode: workerMode(),
    http: {
      storeCors: process.env.STORE_CORS || "http://localhost:8000",
      adminCors: process.env.ADMIN_CORS || "http://localhost:9000",
      authCors: process.env.AUTH_CORS || "http://localhost:8000,http://localhost:9000",
      jwtSecret: required("JWT_SECRET"),
      cookieSecret: required("COOKIE_SECRET"),
    },
    // `medusa start` marks the admin's session cookie Secure, and express-session then sets none over
    // plain HTTP. This shop serves its admin on http://127.0.0.1 only; a shop behind HTTPS leaves it out.
    cookieOptions: { secure: false },
  },
  // The customer mails of the fulfillment workflow go through Medusa's Notification Module on the `email`
  // channel. This shop's provider writes each mail as a file into NOTIFICATION_OUTBOX_DIR
  // (src/modules/outbox-notification); a real shop registers its mail service's provider here instead
  // (SendGrid, Resend, ...).
  modules: [
    {
      resolve: "@medusajs/medusa/notification",
      options: {
        providers: [
          {
            resolve: "./src/modules/outbox-notification",
            id: "outbox",
            options: { channels: ["email"], directory: process.env.NOTIFICATION_OUTBOX_DIR },
          },
        ],
      },
    },
    ...rbacModules(),
    ...redisModules(process.env.REDIS_URL),
  ],
  plugins: [
    {
      resolve: "medusa-plugin-fulfillment-workflow",
      options: fulfillmentWorkflowOptions(),
    },
  ],
  // The admin dashboard with the plugin's widgets, at /app. `medusa start` serves the build in
  // public/admin, which devstack makes with `medusa build --admin-only` (see README.md).
  admin: {
    disable: false,
    path: "/app",
  },
})
