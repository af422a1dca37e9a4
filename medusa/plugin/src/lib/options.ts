/**
 * The plugin's options: what a shop writes under `plugins: [{ resolve, options }]` in medusa-config.ts.
 *
 * Every option falls back to an environment variable (the names the plugin used before it had options),
 * so a plugin registered with empty options works from the environment alone. Options win over the
 * environment. Both are validated with zod when Medusa loads the plugin; the first problem stops Medusa
 * with an error that names the option and its environment variable, never the value (it may be a secret).
 */
import { z } from "@medusajs/framework/zod"

export const PLUGIN_NAME = "medusa-plugin-fulfillment-workflow"

/** Zeebe buffers the first `order-placed` message this long by default (ORDER_MESSAGE_TTL_SECONDS). */
export const DEFAULT_MESSAGE_TTL_MS = 3_600_000

/** Upper bound of retry.maxAttempts: the delivery step's retry budget in Medusa's workflow engine. */
export const MAX_DELIVERY_ATTEMPTS = 100

const positiveInt = z.coerce.number().int().positive()
const nonNegativeInt = z.coerce.number().int().nonnegative()
/** The receiving function refuses secrets of fewer bytes (Standard Webhooks asks for 24 to 64). */
const MIN_SECRET_BYTES = 24

const webhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "must be a whsec_... secret (base64 after the prefix)")
  .refine((secret) => Buffer.from(secret.slice("whsec_".length), "base64").length >= MIN_SECRET_BYTES, {
    message: `must carry at least ${MIN_SECRET_BYTES} bytes after the whsec_ prefix`,
  })

const secretsSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(/[\s,]+/)).filter(Boolean))
  .pipe(z.array(webhookSecret))

const optionsSchema = z
  .object({
    webhookUrl: z.string().url().optional(),
    webhookSecret: secretsSchema.optional(),
    retry: z
      .object({
        maxAttempts: positiveInt.max(MAX_DELIVERY_ATTEMPTS).default(10),
        baseDelayMs: positiveInt.default(1_000),
        maxDelayMs: positiveInt.default(60_000),
        timeoutMs: positiveInt.default(10_000),
      })
      .strict(),
    reconciliation: z
      .object({
        enabled: z.boolean().default(true),
        intervalMs: positiveInt.default(300_000),
        minAgeMs: nonNegativeInt.default(600_000),
        lookbackMs: positiveInt.default(3_000_000),
      })
      .strict()
      .refine((value) => value.minAgeMs < value.lookbackMs, {
        message: "minAgeMs must be below lookbackMs",
        path: ["minAgeMs"],
      }),
    operateUrl: z.string().url().optional(),
    stalledAfterMinutes: positiveInt.default(30),
    emitOrderUpdated: z.boolean().default(false),
  })
  .strict()

export type PluginOptions = z.infer<typeof optionsSchema>
export type RetryOptions = PluginOptions["retry"]
export type ReconciliationOptions = PluginOptions["reconciliation"]

/** What a shop may pass: every field optional, nested groups partial. */
export type PluginOptionsInput = Partial<{
  webhookUrl: string
  webhookSecret: string | string[]
  retry: Partial<RetryOptions>
  reconciliation: Partial<ReconciliationOptions>
  operateUrl: string
  stalledAfterMinutes: number
  emitOrderUpdated: boolean
}>

/** Option path → the environment variable it falls back to. */
export const ENVIRONMENT_FALLBACKS: Readonly<Record<string, string>> = {
  webhookUrl: "ORDER_WEBHOOK_URL",
  webhookSecret: "ORDER_WEBHOOK_SECRET",
  "retry.maxAttempts": "ORDER_WEBHOOK_MAX_ATTEMPTS",
  "retry.baseDelayMs": "ORDER_WEBHOOK_RETRY_BASE_MS",
  "retry.maxDelayMs": "ORDER_WEBHOOK_RETRY_MAX_MS",
  "retry.timeoutMs": "ORDER_WEBHOOK_TIMEOUT_MS",
  "reconciliation.intervalMs": "ORDER_WEBHOOK_RECONCILE_INTERVAL_MS",
  "reconciliation.minAgeMs": "ORDER_WEBHOOK_RECONCILE_MIN_AGE_MS",
  "reconciliation.lookbackMs": "ORDER_WEBHOOK_RECONCILE_LOOKBACK_MS",
  operateUrl: "CAMUNDA_OPERATE_URL",
  stalledAfterMinutes: "ORDER_WORKFLOW_STALLED_AFTER_MINUTES",
  emitOrderUpdated: "ORDER_WORKFLOW_EMIT_ORDER_UPDATED",
}

export class PluginOptionsError extends Error {
  constructor(readonly option: string, problem: string) {
    const fallback = ENVIRONMENT_FALLBACKS[option]
    super(`${PLUGIN_NAME}: invalid option ${option}${fallback ? ` (or ${fallback})` : ""}: ${problem}`)
    this.name = "PluginOptionsError"
  }
}

/** Validates `raw` (the plugin's options) with the environment as fallback; throws PluginOptionsError. */
export function resolveOptions(raw: unknown = {}, env: NodeJS.ProcessEnv = process.env): PluginOptions {
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw new PluginOptionsError("options", "must be an object")
  }
  const given = withoutMedusaKeys((raw ?? {}) as Record<string, unknown>)
  const parsed = optionsSchema.safeParse(withEnvironment(given, env))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    // A list's index says nothing to the reader of the error ("webhookSecret", not "webhookSecret.1").
    const option = issue.path.filter((part) => typeof part === "string").join(".")
    throw new PluginOptionsError(option || "options", issue.message)
  }
  return parsed.data
}

/** Keys Medusa adds to the options it passes to a plugin's modules (the shop never writes them). */
const MEDUSA_MODULE_KEYS = new Set(["database", "scope", "resources", "definition"])

function withoutMedusaKeys(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !MEDUSA_MODULE_KEYS.has(key)))
}

function withEnvironment(given: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const read = (path: string): string | undefined => fromEnvironment(env, path)
  const reconciliation = groupWithEnvironment(given, env, "reconciliation", ["intervalMs", "minAgeMs", "lookbackMs"])
  // Before options existed, an interval of 0 disabled the job: the environment keeps that meaning.
  if (reconciliation.enabled === undefined && reconciliation.intervalMs === "0") {
    reconciliation.enabled = false
    delete reconciliation.intervalMs
  }
  return {
    ...given,
    webhookUrl: given.webhookUrl ?? read("webhookUrl"),
    webhookSecret: given.webhookSecret ?? read("webhookSecret"),
    retry: groupWithEnvironment(given, env, "retry", ["maxAttempts", "baseDelayMs", "maxDelayMs", "timeoutMs"]),
    reconciliation,
    operateUrl: given.operateUrl ?? read("operateUrl"),
    stalledAfterMinutes: given.stalledAfterMinutes ?? read("stalledAfterMinutes"),
    emitOrderUpdated: given.emitOrderUpdated ?? booleanFromEnv(read("emitOrderUpdated")),
  }
}

function fromEnvironment(env: NodeJS.ProcessEnv, path: string): string | undefined {
  const value = env[ENVIRONMENT_FALLBACKS[path]]
  return value === undefined || value === "" ? undefined : value
}

/** A nested group (`retry`, `reconciliation`): the given keys over the environment's, key by key. */
function groupWithEnvironment(
  given: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  group: string,
  keys: string[]
): Record<string, unknown> {
  const fromEnv: Record<string, unknown> = {}
  for (const key of keys) {
    const value = fromEnvironment(env, `${group}.${key}`)
    if (value !== undefined) {
      fromEnv[key] = value
    }
  }
  const own = given[group]
  if (own === undefined) {
    return fromEnv
  }
  // Anything but an object is left for the schema to refuse, by name.
  return typeof own === "object" && own !== null && !Array.isArray(own) ? { ...fromEnv, ...own } : (own as Record<string, unknown>)
}

function booleanFromEnv(value: string | undefined): boolean | string | undefined {
  if (value === undefined) {
    return undefined
  }
  const lowered = value.toLowerCase()
  return lowered === "true" || lowered === "1" ? true : lowered === "false" || lowered === "0" ? false : value
}

/** The webhook's destination, or null when the shop has not configured one (delivery is then off). */
export function webhookTarget(options: PluginOptions): { url: string; secrets: string[] } | null {
  return options.webhookUrl && options.webhookSecret?.length
    ? { url: options.webhookUrl, secrets: options.webhookSecret }
    : null
}
