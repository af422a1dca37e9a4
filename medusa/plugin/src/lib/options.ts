/**
 * The plugin's options: what a shop writes under `plugins: [{ resolve, options }]` in medusa-config.ts,
 * and the only place the plugin reads its settings from (no environment variable is read inside the
 * plugin: the shop decides where each value comes from). Validated with zod when Medusa loads the plugin;
 * the first problem stops Medusa with an error that names the option, never the value (it may be a secret).
 */
import { z } from "@medusajs/framework/zod"

export const PLUGIN_NAME = "medusa-plugin-fulfillment-workflow"

/** Zeebe buffers the first `order-placed` message this long by default (ORDER_MESSAGE_TTL_SECONDS). */
export const DEFAULT_MESSAGE_TTL_MS = 3_600_000

/** Upper bound of retry.maxAttempts: the delivery step's retry budget in Medusa's workflow engine. */
export const MAX_DELIVERY_ATTEMPTS = 100

const positiveInt = z.coerce.number().int().positive()
const nonNegativeInt = z.coerce.number().int().nonnegative()
/** The cloud side refuses secrets of fewer bytes (Standard Webhooks asks for 24 to 64). */
const MIN_SECRET_BYTES = 24

const whsecSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "must be a whsec_... secret (base64 after the prefix)")
  .refine((secret) => Buffer.from(secret.slice("whsec_".length), "base64").length >= MIN_SECRET_BYTES, {
    message: `must carry at least ${MIN_SECRET_BYTES} bytes after the whsec_ prefix`,
  })

/** One secret, or several during a rotation: a list, or one string with spaces or commas between them. */
const secretsSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : value.split(/[\s,]+/)).filter(Boolean))
  .pipe(z.array(whsecSecret))

/**
 * The plugin's own Camunda client, for the admin's order actions (read the order's instances and
 * incidents, give a job retries, resolve an incident): the REST address and, for a Camunda that asks for
 * them, OAuth client credentials. Without it the actions say Camunda is not configured and change nothing.
 */
const camundaSchema = z
  .object({
    restUrl: z.string().url(),
    tokenUrl: z.string().url().optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    scope: z.string().min(1).optional(),
    timeoutMs: positiveInt.default(10_000),
  })
  .strict()
  .refine((value) => !value.tokenUrl || (value.clientId && value.clientSecret), {
    message: "tokenUrl needs clientId and clientSecret",
    path: ["clientId"],
  })
  .refine((value) => value.tokenUrl || (!value.clientId && !value.clientSecret), {
    message: "clientId and clientSecret need tokenUrl",
    path: ["tokenUrl"],
  })

const optionsSchema = z
  .object({
    webhookUrl: z.string().url().optional(),
    webhookSecret: secretsSchema.optional(),
    workerSecret: secretsSchema.optional(),
    statusSecret: secretsSchema.optional(),
    retry: z
      .object({
        maxAttempts: positiveInt.max(MAX_DELIVERY_ATTEMPTS).default(10),
        baseDelayMs: positiveInt.default(1_000),
        maxDelayMs: positiveInt.default(60_000),
        timeoutMs: positiveInt.default(10_000),
      })
      .strict()
      .prefault({}),
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
      })
      .prefault({}),
    operateUrl: z.string().url().optional(),
    camunda: camundaSchema.optional(),
    stalledAfterMinutes: positiveInt.default(30),
    emitOrderUpdated: z.boolean().default(false),
  })
  .strict()

export type PluginOptions = z.infer<typeof optionsSchema>
export type RetryOptions = PluginOptions["retry"]
export type ReconciliationOptions = PluginOptions["reconciliation"]
export type CamundaOptions = NonNullable<PluginOptions["camunda"]>

/** What a shop may pass: every field optional, nested groups partial. */
export type PluginOptionsInput = Partial<{
  webhookUrl: string
  webhookSecret: string | string[]
  workerSecret: string | string[]
  statusSecret: string | string[]
  retry: Partial<RetryOptions>
  reconciliation: Partial<ReconciliationOptions>
  operateUrl: string
  camunda: Partial<CamundaOptions>
  stalledAfterMinutes: number
  emitOrderUpdated: boolean
}>

export class PluginOptionsError extends Error {
  constructor(readonly option: string, problem: string) {
    super(`${PLUGIN_NAME}: invalid option ${option}: ${problem}`)
    this.name = "PluginOptionsError"
  }
}

/** Validates `raw` (the plugin's options as the shop registered them); throws PluginOptionsError. */
export function resolveOptions(raw: unknown = {}): PluginOptions {
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw new PluginOptionsError("options", "must be an object")
  }
  const parsed = optionsSchema.safeParse(withoutUnset(withoutMedusaKeys((raw ?? {}) as Record<string, unknown>)))
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

/**
 * A shop passes `process.env.X` straight through: an unset variable arrives as undefined, an empty one as
 * "". Both mean "not set" (the option's default, or the feature off), in the groups as well; a group left
 * empty is not set.
 */
function withoutUnset(raw: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || value === "") continue
    if (!isPlainObject(value)) {
      kept[key] = value
      continue
    }
    // A group whose every value is unset is not set either (a shop without a Camunda address).
    const group = withoutUnset(value)
    if (Object.keys(group).length > 0) kept[key] = group
  }
  return kept
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/** The webhook's destination, or null when the shop has not configured one (delivery is then off). */
export function webhookTarget(options: PluginOptions): { url: string; secrets: string[] } | null {
  return options.webhookUrl && options.webhookSecret?.length
    ? { url: options.webhookUrl, secrets: options.webhookSecret }
    : null
}

/** The callers of the plugin's signed routes, each with its own secret option. */
export type SignedCaller = "worker" | "status"

export const CALLER_OPTION: Readonly<Record<SignedCaller, "workerSecret" | "statusSecret">> = {
  worker: "workerSecret",
  status: "statusSecret",
}

/** The secrets a caller may sign with; empty when the shop set none (its routes then accept nobody). */
export function callerSecrets(options: PluginOptions, caller: SignedCaller): string[] {
  return options[CALLER_OPTION[caller]] ?? []
}

/** The signed routes each caller's secret opens. */
export const CALLER_ROUTES: Readonly<Record<SignedCaller, readonly string[]>> = {
  worker: ["view", "cancel"],
  status: ["status"],
}

/** One line per caller whose secret option is unset: its routes answer 401 to everyone. */
export function disabledRoutes(options: PluginOptions): string[] {
  return (Object.keys(CALLER_OPTION) as SignedCaller[])
    .filter((caller) => callerSecrets(options, caller).length === 0)
    .map(
      (caller) =>
        `${PLUGIN_NAME}: option ${CALLER_OPTION[caller]} is not set: ` +
        CALLER_ROUTES[caller].map((route) => `POST /fulfillment-workflow/orders/{id}/${route}`).join(" and ") +
        " accept no request (401)"
    )
}
