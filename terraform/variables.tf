# ---------------------------------------------------------------------------------------------------
# Project and naming
# ---------------------------------------------------------------------------------------------------
variable "project_id" {
  description = "Google Cloud project id that hosts the deployment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits or hyphens."
  }
}

variable "region" {
  description = "Region for the functions, the worker job, the scheduler, Artifact Registry and the source bucket."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west1 or us-central1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (functions, job, service accounts, secrets, repositories)."
  type        = string
  default     = "fulfillment"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-16 lowercase letters, digits or hyphens, starting with a letter (service account ids are limited to 30 characters)."
  }
}

variable "source_bucket_name" {
  description = "Name of the bucket that holds the function source zips. Empty: PROJECT_ID-NAME_PREFIX-sources."
  type        = string
  default     = ""

  validation {
    condition     = var.source_bucket_name == "" || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.source_bucket_name))
    error_message = "source_bucket_name must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens, underscores)."
  }
}

variable "function_zip_dir" {
  description = "Directory with order_webhook.zip and status_update.zip, as written by `python tools/package_functions.py` (relative paths are relative to this directory)."
  type        = string
  default     = "../.build/functions"

  validation {
    condition     = length(trimspace(var.function_zip_dir)) > 0
    error_message = "function_zip_dir must name the directory that holds the packaged function zips."
  }
}

variable "kms_key_name" {
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) for customer-managed encryption of the source bucket and the Artifact Registry repositories. Empty: Google-managed keys. The key must be in the deployment's region and the service agents need roles/cloudkms.cryptoKeyEncrypterDecrypter on it."
  type        = string
  default     = ""

  validation {
    condition     = var.kms_key_name == "" || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be empty or projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

# ---------------------------------------------------------------------------------------------------
# Medusa
# ---------------------------------------------------------------------------------------------------
variable "medusa_backend_url" {
  description = "Base URL of the Medusa v2 backend (MEDUSA_BACKEND_URL) whose plugin routes the worker and the status function call, reachable from Google Cloud. The order webhook never calls Medusa."
  type        = string

  validation {
    condition     = can(regex("^https://[^/\\s]+(/.*)?$", var.medusa_backend_url))
    error_message = "medusa_backend_url must be an https:// URL: signed requests and order data travel over it."
  }
}

variable "medusa_timeout_seconds" {
  description = "Timeout of one request to the plugin's routes in Medusa, in seconds (MEDUSA_TIMEOUT_SECONDS)."
  type        = number
  default     = 10

  validation {
    condition     = var.medusa_timeout_seconds >= 1 && var.medusa_timeout_seconds <= 60
    error_message = "medusa_timeout_seconds must be between 1 and 60."
  }
}

variable "medusa_max_attempts" {
  description = "Attempts per call to the plugin's routes in Medusa on connect errors, timeouts, 429 and 5xx (MEDUSA_MAX_ATTEMPTS; 1 = no retry)."
  type        = number
  default     = 3

  validation {
    condition     = var.medusa_max_attempts >= 1 && var.medusa_max_attempts <= 10
    error_message = "medusa_max_attempts must be between 1 and 10."
  }
}

# ---------------------------------------------------------------------------------------------------
# Camunda 8 / Zeebe. Either Camunda SaaS (camunda_cluster_id + camunda_cluster_region) or a
# self-managed gateway with OAuth (zeebe_address + zeebe_authorization_server_url + zeebe_token_audience).
# Each component has its own API client (camunda_client_ids) whose secret is its own secret.
# ---------------------------------------------------------------------------------------------------
variable "camunda_client_ids" {
  description = "OAuth client id of each component's own Camunda API client (its ZEEBE_CLIENT_ID); each client's secret goes into that component's secret (WEBHOOK_, WORKER_, INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET). webhook: publishes messages; worker: activates and completes jobs; incident_checker: reads incidents (README, \"Camunda clients\", for the scopes on SaaS and self-managed). The client that deploys the model belongs to whoever deploys, not here."
  type = object({
    webhook          = string
    worker           = string
    incident_checker = string
  })

  validation {
    condition     = alltrue([for id in values(var.camunda_client_ids) : length(trimspace(id)) > 0])
    error_message = "camunda_client_ids needs a client id for webhook, worker and incident_checker: each reaches Camunda over the internet and must authenticate."
  }

  validation {
    condition     = length(distinct(values(var.camunda_client_ids))) == 3
    error_message = "camunda_client_ids must name three different clients: one per component, each with the narrowest permissions it needs."
  }
}

variable "camunda_api_url" {
  description = "Base URL of the Camunda REST API the incident checker asks for open incidents (CAMUNDA_API_URL): the Orchestration Cluster REST API (Camunda 8.8+, without /v2): on SaaS https://REGION.zeebe.camunda.io/CLUSTER_ID, self-managed your gateway's REST address."
  type        = string

  validation {
    condition     = can(regex("^https://[^/\\s]+(/.*)?$", var.camunda_api_url))
    error_message = "camunda_api_url must be an https:// URL."
  }
}

variable "camunda_api_audience" {
  description = "OAuth audience of the token the incident checker requests for Camunda's REST API (CAMUNDA_API_AUDIENCE). Empty: the code's default for the target."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[^\\s]{0,255}$", var.camunda_api_audience))
    error_message = "camunda_api_audience must not contain spaces (at most 255 characters)."
  }
}

variable "camunda_api_timeout_seconds" {
  description = "Deadline of one call to Camunda's REST API by the worker's start-up check and the incident checker (CAMUNDA_API_TIMEOUT_SECONDS)."
  type        = number
  default     = 10

  validation {
    condition     = var.camunda_api_timeout_seconds > 0 && var.camunda_api_timeout_seconds <= 120
    error_message = "camunda_api_timeout_seconds must be above 0 and at most 120."
  }
}

variable "camunda_api_max_attempts" {
  description = "Attempts per call to Camunda's REST API on connect errors, timeouts, 429 and 5xx (CAMUNDA_API_MAX_ATTEMPTS)."
  type        = number
  default     = 3

  validation {
    condition     = var.camunda_api_max_attempts >= 1 && var.camunda_api_max_attempts <= 10
    error_message = "camunda_api_max_attempts must be between 1 and 10."
  }
}

variable "camunda_cluster_id" {
  description = "Camunda SaaS cluster id (CAMUNDA_CLUSTER_ID). Leave empty for a self-managed gateway."
  type        = string
  default     = ""

  validation {
    condition     = var.camunda_cluster_id == "" || can(regex("^[A-Za-z0-9-]+$", var.camunda_cluster_id))
    error_message = "camunda_cluster_id must be empty or a Camunda cluster id (letters, digits, hyphens)."
  }
}

variable "camunda_cluster_region" {
  description = "Camunda SaaS cluster region (CAMUNDA_CLUSTER_REGION), e.g. bru-2. Required with camunda_cluster_id."
  type        = string
  default     = ""

  validation {
    condition     = var.camunda_cluster_region == "" || can(regex("^[a-z0-9-]+$", var.camunda_cluster_region))
    error_message = "camunda_cluster_region must be empty or a Camunda region such as bru-2."
  }
}

variable "zeebe_address" {
  description = "Self-managed Zeebe gateway as host:port (ZEEBE_ADDRESS). Leave empty for Camunda SaaS."
  type        = string
  default     = ""

  validation {
    condition     = var.zeebe_address == "" || can(regex("^[A-Za-z0-9.-]+:[0-9]{1,5}$", var.zeebe_address))
    error_message = "zeebe_address must be empty or host:port."
  }
}

variable "zeebe_authorization_server_url" {
  description = "OAuth token endpoint of a self-managed Camunda (ZEEBE_AUTHORIZATION_SERVER_URL)."
  type        = string
  default     = ""

  validation {
    condition     = var.zeebe_authorization_server_url == "" || can(regex("^https://", var.zeebe_authorization_server_url))
    error_message = "zeebe_authorization_server_url must be empty or an https:// URL."
  }
}

variable "zeebe_request_timeout_seconds" {
  description = "Deadline of one call to the Zeebe gateway, e.g. publishing the order-placed message (ZEEBE_REQUEST_TIMEOUT_SECONDS)."
  type        = number
  default     = 10

  validation {
    condition     = var.zeebe_request_timeout_seconds > 0 && var.zeebe_request_timeout_seconds <= 120
    error_message = "zeebe_request_timeout_seconds must be above 0 and at most 120."
  }
}

variable "order_message_ttl_seconds" {
  description = "How long Zeebe buffers an order-placed message; while buffered, a redelivered webhook is refused as a duplicate by Zeebe itself (ORDER_MESSAGE_TTL_SECONDS). It must outlast the subscriber's reconciliation lookback (50 minutes by default) and any worker outage before an order's first status lands."
  type        = number
  default     = 3600

  validation {
    condition     = var.order_message_ttl_seconds >= 3600 && var.order_message_ttl_seconds <= 604800
    error_message = "order_message_ttl_seconds must be between 3600 (1 hour: longer than the subscriber's reconciliation lookback) and 604800 (7 days)."
  }
}

variable "zeebe_token_audience" {
  description = "OAuth audience of a self-managed Zeebe gateway (ZEEBE_TOKEN_AUDIENCE)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[^\\s]{0,255}$", var.zeebe_token_audience))
    error_message = "zeebe_token_audience must not contain spaces (at most 255 characters)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Secrets. Terraform creates the secret containers only; values are added out of band (README).
# ---------------------------------------------------------------------------------------------------
variable "secret_versions" {
  description = "Pinned Secret Manager version per secret setting, e.g. { ORDER_WEBHOOK_SECRET = \"2\" }. Settings not listed use version 1. Secrets given as environment variables resolve when an instance starts, so bump the version here and apply to roll out a new value."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for value in values(var.secret_versions) : can(regex("^[1-9][0-9]*$", value))])
    error_message = "secret_versions values must be pinned version numbers such as \"1\" (not \"latest\")."
  }

  validation {
    condition = alltrue([
      for name in keys(var.secret_versions) :
      contains(["ORDER_WEBHOOK_SECRET", "STATUS_UPDATE_SECRET", "MEDUSA_WORKER_SECRET", "MEDUSA_STATUS_SECRET", "WEBHOOK_CAMUNDA_CLIENT_SECRET", "WORKER_CAMUNDA_CLIENT_SECRET", "INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET"], name)
    ])
    error_message = "secret_versions keys must be among ORDER_WEBHOOK_SECRET, STATUS_UPDATE_SECRET, MEDUSA_WORKER_SECRET, MEDUSA_STATUS_SECRET, WEBHOOK_CAMUNDA_CLIENT_SECRET, WORKER_CAMUNDA_CLIENT_SECRET, INCIDENT_CHECKER_CAMUNDA_CLIENT_SECRET."
  }
}

# ---------------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------------
# The two functions take the same sizing object; its rules are checked once for both, by
# terraform_data.function_sizing below.
variable "webhook_function" {
  description = "Sizing of the order_webhook function: memory (Cloud Run notation), timeout, min and max instances, CPUs and concurrency (requests one instance serves at once, each on its own server thread). min_instances > 0 avoids cold starts at the price of an always-on instance; max_instances caps what a flood of requests can cost."
  type = object({
    memory          = optional(string, "512Mi")
    timeout_seconds = optional(number, 60)
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    cpu             = optional(string, "1")
    concurrency     = optional(number, 8)
  })
  default = {}
}

variable "status_function" {
  description = "Sizing of the status_update function: memory (Cloud Run notation), timeout, min and max instances, CPUs and concurrency (requests one instance serves at once, each on its own server thread)."
  type = object({
    memory          = optional(string, "512Mi")
    timeout_seconds = optional(number, 60)
    min_instances   = optional(number, 0)
    max_instances   = optional(number, 10)
    cpu             = optional(string, "1")
    concurrency     = optional(number, 8)
  })
  default = {}
}

# The sizing rules of both functions, written once. They sit beside the variables (a resource of
# Terraform's built-in provider) so that `terraform plan` refuses a bad size before anything is built, and
# the offline tests run them with the variables (tests/terraform/test_variable_validation.py).
resource "terraform_data" "function_sizing" {
  for_each = {
    webhook_function = var.webhook_function
    status_function  = var.status_function
  }

  lifecycle {
    precondition {
      condition     = contains(["1", "2", "4"], each.value.cpu)
      error_message = "${each.key}.cpu must be 1, 2 or 4 (Cloud Run serves more than one request per instance only with a whole CPU)."
    }
    precondition {
      condition     = each.value.concurrency >= 1 && each.value.concurrency <= 80 && floor(each.value.concurrency) == each.value.concurrency
      error_message = "${each.key}.concurrency must be a whole number between 1 and 80 (requests one instance serves at once; the server runs as many threads)."
    }
    precondition {
      condition     = can(regex("^[0-9]+(Mi|Gi)$", each.value.memory))
      error_message = "${each.key}.memory must look like 256Mi or 1Gi."
    }
    precondition {
      condition     = each.value.timeout_seconds >= 1 && each.value.timeout_seconds <= 3600
      error_message = "${each.key}.timeout_seconds must be between 1 and 3600."
    }
    precondition {
      condition     = each.value.min_instances >= 0 && each.value.max_instances >= 1 && each.value.min_instances <= each.value.max_instances
      error_message = "${each.key} needs 0 <= min_instances <= max_instances and max_instances >= 1."
    }
  }
}

variable "http_body_deadline_seconds" {
  description = "How long either function waits for a request body before answering 408 (HTTP_BODY_DEADLINE_SECONDS), so a slow client holds one server thread at most this long."
  type        = number
  default     = 10

  validation {
    condition     = var.http_body_deadline_seconds > 0 && var.http_body_deadline_seconds <= 300
    error_message = "http_body_deadline_seconds must be above 0 and at most 300."
  }
}

# ---------------------------------------------------------------------------------------------------
# Network: the worker's Direct VPC egress (README, "Network")
# ---------------------------------------------------------------------------------------------------
variable "vpc_network" {
  description = "VPC network the worker sends all its traffic through (Direct VPC egress), so the status function, which accepts internal traffic only, can be reached. Name or self link; the network needs Cloud NAT for Camunda and Medusa."
  type        = string

  validation {
    condition     = can(regex("^([a-z]([-a-z0-9]*[a-z0-9])?|projects/[^/]+/global/networks/[a-z]([-a-z0-9]*[a-z0-9])?)$", var.vpc_network))
    error_message = "vpc_network must be a network name or projects/P/global/networks/NAME."
  }
}

variable "vpc_subnetwork" {
  description = "Subnetwork in var.region for the worker's Direct VPC egress, with Private Google Access enabled (requests to the status function then stay internal). Name or self link; give it at least a /26 (Cloud Run takes addresses per instance)."
  type        = string

  validation {
    condition     = can(regex("^([a-z]([-a-z0-9]*[a-z0-9])?|projects/[^/]+/regions/[^/]+/subnetworks/[a-z]([-a-z0-9]*[a-z0-9])?)$", var.vpc_subnetwork))
    error_message = "vpc_subnetwork must be a subnetwork name or projects/P/regions/R/subnetworks/NAME."
  }
}

# ---------------------------------------------------------------------------------------------------
# Worker: a Cloud Run job (default) or a worker pool
# ---------------------------------------------------------------------------------------------------
variable "worker_runtime" {
  description = "How the workers run: job (a Cloud Run job started every worker_start_interval_minutes, executions overlapping) or worker_pool (a Cloud Run worker pool of worker_pool_instances always-on instances). README, \"Worker: Cloud Run job or worker pool\"."
  type        = string
  default     = "job"

  validation {
    condition     = contains(["job", "worker_pool"], var.worker_runtime)
    error_message = "worker_runtime must be job or worker_pool."
  }
}

variable "worker_pool_instances" {
  description = "Instances of the worker pool (worker_runtime = worker_pool), each one worker process. Two keep a worker polling while Cloud Run replaces the other."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_pool_instances >= 1 && var.worker_pool_instances <= 100 && floor(var.worker_pool_instances) == var.worker_pool_instances
    error_message = "worker_pool_instances must be a whole number between 1 and 100."
  }
}

variable "worker_image_tag" {
  description = "Tag or digest (sha256:...) of the worker image pushed to the worker repository as worker:TAG (README: build and push)."
  type        = string

  validation {
    condition     = can(regex("^(sha256:[a-f0-9]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$", var.worker_image_tag)) && var.worker_image_tag != "latest"
    error_message = "worker_image_tag must be an immutable tag (not latest) or a sha256: digest."
  }
}

variable "worker_task_count" {
  description = "Number of worker tasks per job execution (each task is one competing-consumer worker process)."
  type        = number
  default     = 1

  validation {
    condition     = var.worker_task_count >= 1 && var.worker_task_count <= 100
    error_message = "worker_task_count must be between 1 and 100."
  }
}

variable "worker_parallelism" {
  description = "How many of the execution's tasks run at once (at most worker_task_count)."
  type        = number
  default     = 1

  validation {
    condition     = var.worker_parallelism >= 1 && var.worker_parallelism <= 100
    error_message = "worker_parallelism must be between 1 and 100."
  }
}

variable "worker_task_timeout_seconds" {
  description = "Cloud Run task timeout of one worker execution (worker_runtime = job). The worker polls until worker_shutdown_margin_seconds before it (WORKER_MAX_RUNTIME_SECONDS, default 4200 - 300 = 3900 s = 65 minutes), then finishes its jobs and exits 0. That polling time must exceed twice worker_start_interval_minutes, so one missed start leaves no gap."
  type        = number
  default     = 4200

  validation {
    condition     = var.worker_task_timeout_seconds >= 600 && var.worker_task_timeout_seconds <= 86400
    error_message = "worker_task_timeout_seconds must be between 600 and 86400 (Cloud Run allows up to 168 h; longer runs are rarely worth the risk)."
  }
}

variable "worker_shutdown_margin_seconds" {
  description = "How long before the task timeout the worker stops activating jobs and finishes the ones it holds. At least the job timeout plus the poll timeout (guards.tf), so no task is killed with jobs activated."
  type        = number
  default     = 300

  validation {
    condition     = var.worker_shutdown_margin_seconds >= 30 && var.worker_shutdown_margin_seconds <= 600
    error_message = "worker_shutdown_margin_seconds must be between 30 and 600."
  }
}

variable "worker_max_retries" {
  description = "Cloud Run retries of a failed worker task (0-10). A worker that exits cleanly at its runtime limit is not retried."
  type        = number
  default     = 3

  validation {
    condition     = var.worker_max_retries >= 0 && var.worker_max_retries <= 10
    error_message = "worker_max_retries must be between 0 and 10."
  }
}

variable "worker_cpu" {
  description = "CPU limit of a worker task (Cloud Run notation, e.g. 1 or 2)."
  type        = string
  default     = "1"

  validation {
    condition     = contains(["1", "2", "4", "6", "8"], var.worker_cpu)
    error_message = "worker_cpu must be 1, 2, 4, 6 or 8."
  }
}

variable "worker_memory" {
  description = "Memory limit of a worker task (Cloud Run notation)."
  type        = string
  default     = "512Mi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.worker_memory))
    error_message = "worker_memory must look like 512Mi or 1Gi."
  }
}

variable "worker_max_jobs" {
  description = "Jobs one worker process activates and runs at a time (WORKER_MAX_JOBS); docs/capacity.md sizes it."
  type        = number
  default     = 32

  validation {
    condition     = var.worker_max_jobs >= 1 && var.worker_max_jobs <= 1000
    error_message = "worker_max_jobs must be between 1 and 1000."
  }
}

variable "worker_tuning" {
  description = "Optional tuning of the worker process; anything left out keeps the code's default. retry_backoff_seconds and max_retry_backoff_seconds: backoff between attempts of a failed job (WORKER_RETRY_BACKOFF_SECONDS, WORKER_MAX_RETRY_BACKOFF_SECONDS); job_timeout_seconds: how long Zeebe waits for a job's result before handing it to another worker (WORKER_JOB_TIMEOUT_SECONDS); unhealthy_exit_seconds: how long Camunda's REST API may stay unreachable during the start-up model check before the task exits non-zero and Cloud Run retries it (WORKER_UNHEALTHY_EXIT_SECONDS); poll_timeout_seconds: long-poll duration, keep it well below Cloud Run's 10 s grace period after SIGTERM (WORKER_POLL_TIMEOUT_SECONDS); name: worker name shown in Camunda Operate (WORKER_NAME, default the host name); outage_window_seconds: how long technical faults are retried before a job becomes an incident (WORKER_OUTAGE_WINDOW_SECONDS, default one hour); settle_seconds: how long a step whose check failed waits before it reads the order again and decides (WORKER_SETTLE_SECONDS, default 3; at most a tenth of the job timeout): longer delays a failing order's end, shorter may decide before Medusa settled a payment or a cancel."
  type = object({
    outage_window_seconds     = optional(number)
    settle_seconds            = optional(number)
    retry_backoff_seconds     = optional(number)
    max_retry_backoff_seconds = optional(number)
    job_timeout_seconds       = optional(number)
    unhealthy_exit_seconds    = optional(number)
    poll_timeout_seconds      = optional(number)
    name                      = optional(string)
  })
  default = {}

  validation {
    condition = alltrue([
      for value in [
        var.worker_tuning.retry_backoff_seconds, var.worker_tuning.max_retry_backoff_seconds,
        var.worker_tuning.job_timeout_seconds,
        var.worker_tuning.unhealthy_exit_seconds, var.worker_tuning.outage_window_seconds,
      ] : value == null ? true : value >= 0 && value <= 86400
    ])
    error_message = "worker_tuning durations must be between 0 and 86400 seconds."
  }

  validation {
    condition     = var.worker_tuning.poll_timeout_seconds == null ? true : var.worker_tuning.poll_timeout_seconds > 0 && var.worker_tuning.poll_timeout_seconds <= 8
    error_message = "worker_tuning.poll_timeout_seconds must be above 0 and at most 8, below Cloud Run's 10 s grace period after SIGTERM."
  }

  validation {
    condition     = var.worker_tuning.settle_seconds == null ? true : var.worker_tuning.settle_seconds >= 0 && var.worker_tuning.settle_seconds <= 60
    error_message = "worker_tuning.settle_seconds must be between 0 and 60."
  }

  validation {
    condition     = var.worker_tuning.name == null ? true : can(regex("^[A-Za-z0-9_.-]{1,64}$", var.worker_tuning.name))
    error_message = "worker_tuning.name must be 1-64 letters, digits, dots, hyphens or underscores."
  }
}

variable "business_policy" {
  description = "Optional overrides of the process model's business policy; anything left out keeps the model's task headers. payment_recheck_interval and payment_max_wait: ISO 8601 durations for re-checking an unpaid order and the longest wait for its payment (PAYMENT_RECHECK_INTERVAL, PAYMENT_MAX_WAIT; model: PT15M, P3D); stock_policy: hold or cancel when stock is missing (STOCK_POLICY; model: hold)."
  type = object({
    payment_recheck_interval = optional(string)
    payment_max_wait         = optional(string)
    stock_policy             = optional(string)
  })
  default = {}

  validation {
    condition = alltrue([
      for value in [var.business_policy.payment_recheck_interval, var.business_policy.payment_max_wait] :
      value == null ? true : can(regex("^P(\\d+D)?(T(\\d+H)?(\\d+M)?(\\d+S)?)?$", value))
    ])
    error_message = "business_policy durations must be ISO 8601 durations such as PT15M or P3D."
  }

  validation {
    condition     = var.business_policy.stock_policy == null ? true : contains(["hold", "cancel"], var.business_policy.stock_policy)
    error_message = "business_policy.stock_policy must be hold or cancel."
  }
}

variable "worker_start_interval_minutes" {
  description = "Minutes between two starts of a worker execution (worker_runtime = job; Cloud Scheduler, UTC). Executions poll longer than two intervals (worker_task_timeout_seconds), so they overlap and a missed start leaves no gap."
  type        = number
  default     = 30

  validation {
    condition     = contains([5, 10, 15, 20, 30, 60], var.worker_start_interval_minutes)
    error_message = "worker_start_interval_minutes must be 5, 10, 15, 20, 30 or 60 (it must divide the hour)."
  }
}

variable "medusa_calls_per_second" {
  description = "Calls to Medusa one worker process makes per second at most (MEDUSA_CALLS_PER_SECOND, a token bucket): with the number of workers, the bound on what the workers ask of Medusa (docs/capacity.md)."
  type        = number
  default     = 10

  validation {
    condition     = var.medusa_calls_per_second > 0 && var.medusa_calls_per_second <= 1000
    error_message = "medusa_calls_per_second must be above 0 and at most 1000."
  }
}

variable "medusa_max_calls_in_flight" {
  description = "Calls to Medusa one worker process has under way at once at most, status reports included (MEDUSA_MAX_CALLS_IN_FLIGHT, like a connection pool's limit): when Medusa slows down, further calls wait at the worker instead of piling up at Medusa (docs/configuration.md)."
  type        = number
  default     = 8

  validation {
    condition     = var.medusa_max_calls_in_flight >= 1 && var.medusa_max_calls_in_flight <= 256 && floor(var.medusa_max_calls_in_flight) == var.medusa_max_calls_in_flight
    error_message = "medusa_max_calls_in_flight must be a whole number between 1 and 256."
  }
}

variable "worker_heartbeat_seconds" {
  description = "Seconds between two worker_heartbeat log lines (WORKER_HEARTBEAT_SECONDS). The \"no worker polling\" alert fires after 5 minutes without a polling heartbeat, so keep it well below 300."
  type        = number
  default     = 60

  validation {
    condition     = var.worker_heartbeat_seconds >= 10 && var.worker_heartbeat_seconds <= 120
    error_message = "worker_heartbeat_seconds must be between 10 and 120 (the alert waits 300 s for a heartbeat)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Monitoring and alerts (monitoring.tf)
# ---------------------------------------------------------------------------------------------------
variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channels every alert policy notifies, as projects/P/notificationChannels/ID (create them once with gcloud or the console: e-mail, Slack, PagerDuty, ...). A plan without one fails unless alerts_without_notification is true."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for channel in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", channel))])
    error_message = "alert_notification_channels entries must look like projects/P/notificationChannels/ID."
  }
}

variable "runbook_url" {
  description = "Where the alerts' documentation points for the runbook: docs/runbook.md of this repository, or its address in your own repository or wiki (each alert adds its section's #anchor)."
  type        = string
  default     = "docs/runbook.md"

  validation {
    condition     = length(trimspace(var.runbook_url)) > 0 && !strcontains(var.runbook_url, "#")
    error_message = "runbook_url must name the runbook without an #anchor (each alert adds its own)."
  }
}

variable "alerts_without_notification" {
  description = "true: accept alert policies that notify nobody (incidents in the console only), e.g. for a test project. false (default): a plan without alert_notification_channels fails."
  type        = bool
  default     = false

  validation {
    condition     = var.alerts_without_notification == true || var.alerts_without_notification == false
    error_message = "alerts_without_notification must be true or false."
  }
}

variable "alert_5xx_per_5_minutes" {
  description = "A function alerts when it answers more than this many 5xx in 5 minutes."
  type        = number
  default     = 5

  validation {
    condition     = var.alert_5xx_per_5_minutes >= 0
    error_message = "alert_5xx_per_5_minutes must be 0 or more."
  }
}

variable "alert_5xx_minutes" {
  description = "How long a function must keep answering too many 5xx before the alert fires, in minutes: a short Medusa or engine blip, which senders retry, does not page."
  type        = number
  default     = 10

  validation {
    condition     = var.alert_5xx_minutes >= 1 && var.alert_5xx_minutes <= 60
    error_message = "alert_5xx_minutes must be between 1 and 60."
  }
}

variable "alert_webhook_refusals_per_10_minutes" {
  description = "The order webhook alerts when it refuses more than this many requests with 401 (bad signature: the plugin's webhookSecret differs) or 400 (malformed event) in 10 minutes. The plugin does not retry those, so every refusal is an order that did not start."
  type        = number
  default     = 0

  validation {
    condition     = var.alert_webhook_refusals_per_10_minutes >= 0
    error_message = "alert_webhook_refusals_per_10_minutes must be 0 or more."
  }
}

variable "stalled_order_minutes" {
  description = "An order started this many minutes ago should have reached a terminal status unless it waits for its payment (awaiting_payment, within the model's payment_max_wait): the other steps take seconds when Medusa and the engine answer."
  type        = number
  default     = 30

  validation {
    condition     = var.stalled_order_minutes >= 10 && var.stalled_order_minutes <= 1440
    error_message = "stalled_order_minutes must be between 10 and 1440."
  }
}

variable "stalled_order_lookback_minutes" {
  description = "Window over which orders started and terminal statuses are compared for the stalled-orders alert."
  type        = number
  default     = 360

  validation {
    condition     = var.stalled_order_lookback_minutes >= 60 && var.stalled_order_lookback_minutes <= 2880
    error_message = "stalled_order_lookback_minutes must be between 60 and 2880."
  }
}
