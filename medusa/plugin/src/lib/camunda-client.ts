/**
 * The plugin's own client of Camunda's Orchestration Cluster REST API (`/v2`, Camunda 8.8+; the local
 * engine's `localzeebe/rest_api.py` serves the same part): the calls the admin's order actions make, and no
 * other. It reads the order's process instances and incidents, gives a job retries and resolves an
 * incident, so its Camunda client needs no more than that (the plugin's README names the scopes).
 *
 * Paths, bodies and answers follow the API's OpenAPI description (camunda/camunda,
 * `zeebe/gateway-protocol/src/main/proto/rest-api.yaml`), as `fulfillment/camunda_api.py` does on the
 * Python side: `POST /v2/process-instances/search` filtered by the `order_id` variable,
 * `POST /v2/incidents/search` by process instance key, `PATCH /v2/jobs/{jobKey}` with
 * `{"changeset": {"retries"}}`, `POST /v2/incidents/{incidentKey}/resolution`. Keys are kept as text.
 *
 * Authentication: OAuth client credentials (token URL, client id and secret, audience, scope); one token
 * per client, reused until shortly before it expires. Without a token URL no Authorization header is sent
 * (a local engine). Searches read Camunda's exporter's copy, a moment behind the engine.
 */
export const PROCESS_ID = "order-fulfillment"

/** Renew a token this long before it expires, so no call goes out with a token that expires in flight. */
export const TOKEN_RENEWAL_MARGIN_MS = 30_000
const SEARCH_LIMIT = 100

export interface CamundaOAuth {
  tokenUrl: string
  clientId: string
  clientSecret: string
  audience?: string
  scope?: string
}

export interface CamundaClientConfig {
  /** The REST address without `/v2` (e.g. https://bru-2.zeebe.camunda.io/CLUSTER_ID). */
  restUrl: string
  oauth?: CamundaOAuth
  timeoutMs: number
  /** Replaceable for tests. */
  fetchImpl?: typeof fetch
  now?: () => number
}

export interface ProcessInstance {
  processInstanceKey: string
  state: string
  startDate: string | null
  hasIncident: boolean
}

export interface Incident {
  incidentKey: string
  processInstanceKey: string
  errorType: string
  errorMessage: string
  elementId: string | null
  creationTime: string | null
  state: string
  jobKey: string | null
}

/** Camunda could not answer now: unreachable, timed out, overloaded, or an answer of an unexpected shape. */
export class CamundaUnavailable extends Error {
  override name = "CamundaUnavailable"
}

/** Camunda or its authorization server refused the plugin's client credentials (400/401/403 for a token). */
export class CamundaRefused extends Error {
  override name = "CamundaRefused"
}

/** Camunda refused the request: 404 (no such record), 409 (not in a state the command applies to), ... */
export class CamundaRejected extends Error {
  override name = "CamundaRejected"
  constructor(readonly status: number, readonly title: string, readonly detail: string) {
    super(`${status} ${title}: ${detail}`)
  }
}

export class CamundaClient {
  private token: { value: string; renewAt: number } | null = null
  private readonly fetchImpl: typeof fetch
  private readonly now: () => number

  constructor(private readonly config: CamundaClientConfig) {
    this.fetchImpl = config.fetchImpl ?? fetch
    this.now = config.now ?? Date.now
  }

  /** The ACTIVE instances of the process whose `order_id` variable is this order, newest first. */
  async activeInstancesOfOrder(orderId: string, processId = PROCESS_ID): Promise<ProcessInstance[]> {
    const items = await this.search("/process-instances/search", {
      filter: {
        processDefinitionId: processId,
        state: "ACTIVE",
        variables: [{ name: "order_id", value: JSON.stringify(orderId) }],
      },
      sort: [{ field: "startDate", order: "DESC" }],
      page: { limit: SEARCH_LIMIT },
    })
    return items.map(instanceOf)
  }

  /** The open (ACTIVE) incidents of these process instances, oldest first. */
  async openIncidents(processInstanceKeys: readonly string[]): Promise<Incident[]> {
    if (processInstanceKeys.length === 0) return []
    const items = await this.search("/incidents/search", {
      filter: { processInstanceKey: { $in: processInstanceKeys.map(checkedKey) }, state: "ACTIVE" },
      sort: [{ field: "creationTime", order: "ASC" }],
      page: { limit: SEARCH_LIMIT },
    })
    return items.map(incidentOf)
  }

  async setJobRetries(jobKey: string, retries: number): Promise<void> {
    await this.call("PATCH", `/jobs/${checkedKey(jobKey)}`, { changeset: { retries } })
  }

  /** Resolves the incident; a job's incident needs the job's retries first (`setJobRetries`). */
  async resolveIncident(incidentKey: string): Promise<void> {
    await this.call("POST", `/incidents/${checkedKey(incidentKey)}/resolution`, {})
  }

  private async search(path: string, query: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const answer = await this.call("POST", path, query)
    const items = (answer as { items?: unknown } | null)?.items
    if (!Array.isArray(items)) {
      throw new CamundaUnavailable(`POST /v2${path}: the answer holds no items`)
    }
    return items as Record<string, unknown>[]
  }

  private async call(method: string, path: string, body: Record<string, unknown>): Promise<unknown> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" }
    const authorization = await this.authorization()
    if (authorization) headers.authorization = authorization
    const url = `${this.config.restUrl.replace(/\/+$/, "")}/v2${path}`
    const response = await this.send(url, { method, headers, body: JSON.stringify(body) }, `${method} /v2${path}`)
    const text = await response.text()
    if (response.ok) {
      return text ? parseJson(text, `${method} /v2${path}`) : null
    }
    const { title, detail } = problemOf(text, response.statusText)
    if (response.status === 401 || response.status === 403) {
      throw new CamundaRefused(`${method} /v2${path}: ${response.status} ${title}: ${detail}`)
    }
    if (response.status === 429 || response.status >= 500) {
      throw new CamundaUnavailable(`${method} /v2${path}: ${response.status} ${title}`)
    }
    throw new CamundaRejected(response.status, title, detail)
  }

  private async authorization(): Promise<string | null> {
    const oauth = this.config.oauth
    if (!oauth) return null
    if (!this.token || this.now() >= this.token.renewAt) {
      this.token = await this.fetchToken(oauth)
    }
    return `Bearer ${this.token.value}`
  }

  private async fetchToken(oauth: CamundaOAuth): Promise<{ value: string; renewAt: number }> {
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret,
    })
    if (oauth.audience) form.set("audience", oauth.audience)
    if (oauth.scope) form.set("scope", oauth.scope)
    const response = await this.send(
      oauth.tokenUrl,
      { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() },
      "the authorization server"
    )
    if ([400, 401, 403].includes(response.status)) {
      throw new CamundaRefused(`the authorization server refused the client credentials (${response.status})`)
    }
    if (!response.ok) {
      throw new CamundaUnavailable(`the authorization server answered ${response.status}`)
    }
    const answer = parseJson(await response.text(), "the authorization server") as {
      access_token?: unknown
      expires_in?: unknown
    } | null
    if (typeof answer?.access_token !== "string") {
      throw new CamundaUnavailable("the authorization server's answer holds no access_token")
    }
    const lifetimeMs = (typeof answer.expires_in === "number" ? answer.expires_in : 300) * 1000
    return { value: answer.access_token, renewAt: this.now() + Math.max(0, lifetimeMs - TOKEN_RENEWAL_MARGIN_MS) }
  }

  private async send(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await this.fetchImpl(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(this.config.timeoutMs) })
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      throw new CamundaUnavailable(`${what} could not be reached (${reason})`)
    }
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new CamundaUnavailable(`${what}: the answer is not JSON`)
  }
}

/** Title and detail of an RFC 9457 problem detail (Camunda's error answers), or the status text. */
function problemOf(text: string, statusText: string): { title: string; detail: string } {
  try {
    const problem = JSON.parse(text) as { title?: unknown; detail?: unknown }
    return { title: String(problem.title ?? statusText), detail: String(problem.detail ?? "").slice(0, 500) }
  } catch {
    return { title: statusText, detail: text.slice(0, 200) }
  }
}

/** A key goes into a path or a filter only as digits (a key is a 64-bit number, carried as text). */
function checkedKey(key: string): string {
  if (!/^\d{1,20}$/.test(key)) throw new TypeError(`not a Camunda key: ${JSON.stringify(key)}`)
  return key
}

/** A field of Camunda's answer as text, whatever JSON type it came as; null when absent. */
function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null
  return String(value)
}

function instanceOf(item: Record<string, unknown>): ProcessInstance {
  return {
    processInstanceKey: String(item.processInstanceKey),
    state: String(item.state),
    startDate: textOf(item.startDate),
    hasIncident: item.hasIncident === true,
  }
}

function incidentOf(item: Record<string, unknown>): Incident {
  return {
    incidentKey: String(item.incidentKey),
    processInstanceKey: String(item.processInstanceKey),
    errorType: String(item.errorType ?? ""),
    errorMessage: String(item.errorMessage ?? ""),
    elementId: textOf(item.elementId),
    creationTime: textOf(item.creationTime),
    state: String(item.state),
    jobKey: textOf(item.jobKey),
  }
}
