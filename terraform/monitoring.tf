# Monitoring: log-based metrics from the JSON log lines the code writes (each carries an `event` field for
# this purpose), alert policies that page through var.alert_notification_channels, and one dashboard.
# tests/terraform/test_monitoring.py runs the code, collects the lines it logs and checks that every
# metric's filter matches them and that every label it extracts is there. Every alert's documentation says
# what it means, what to check and what to do, and links its section of docs/runbook.md.
locals {
  function_log_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(\"${local.function_names.webhook}\" OR \"${local.function_names.status}\")"
  webhook_log_filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.function_names.webhook}\""
  status_log_filter   = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.function_names.status}\""
  # The workers log as a Cloud Run job or as a worker pool (worker.tf).
  worker_log_filters = {
    job         = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.worker_job_name}\""
    worker_pool = "resource.type=\"cloud_run_worker_pool\" AND resource.labels.worker_pool_name=\"${local.worker_pool_name}\""
  }
  worker_log_filter = local.worker_log_filters[var.worker_runtime]
  worker_resource_types = {
    job         = "cloud_run_job"
    worker_pool = "cloud_run_worker_pool"
  }
  worker_resource_type        = local.worker_resource_types[var.worker_runtime]
  incident_checker_log_filter = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.incident_checker_job_name}\""

  # PromQL spells a log-based metric logging_googleapis_com:user_NAME, with - and . as _.
  promql_status_updates   = "logging_googleapis_com:user_${replace("${var.name_prefix}_status_updates", "-", "_")}"
  promql_webhook_outcomes = "logging_googleapis_com:user_${replace("${var.name_prefix}_webhook_outcomes", "-", "_")}"
}

# ---------------------------------------------------------------------------------------------------
# Log-based metrics: one counter per entry, each label extracted from the matching lines.
# ---------------------------------------------------------------------------------------------------
locals {
  log_metrics = {
    webhook_outcomes = {
      description = "Signed order webhooks handled by order_webhook, by outcome: started, duplicate, ignored, canceled, not_canceled."
      filter      = "${local.webhook_log_filter} AND jsonPayload.event=\"webhook_handled\""
      labels = {
        outcome = { extract = "jsonPayload.outcome", description = "started, duplicate, ignored, canceled or not_canceled" }
      }
    }
    refused_requests = {
      description = "Requests either function answered with an error, by function, HTTP status and error code (401 bad signature, 503 Medusa or the engine unusable, ...)."
      filter      = "${local.function_log_filter} AND jsonPayload.event=\"request_refused\""
      labels = {
        function    = { extract = "resource.labels.service_name", description = "the function's Cloud Run service" }
        http_status = { extract = "jsonPayload.http_status", description = "the status answered" }
        error       = { extract = "jsonPayload.error", description = "the error code of the answer (invalid_signature, medusa_unavailable, ...)" }
      }
    }
    status_updates = {
      description = "Workflow status reports recorded by status_update, by status, whether applied, why not, and whether the status is terminal."
      filter      = "${local.status_log_filter} AND jsonPayload.event=\"status_recorded\""
      labels = {
        status   = { extract = "jsonPayload.status", description = "the reported workflow status" }
        applied  = { extract = "jsonPayload.applied", description = "true when written to the order, false when refused" }
        reason   = { extract = "jsonPayload.reason", description = "why a report was refused: stale or order_canceled (empty when applied)" }
        terminal = { extract = "jsonPayload.terminal", description = "true for completed, payment_failed, out_of_stock, cancel_refused and canceled" }
      }
    }
    job_failures = {
      description = "Zeebe jobs the worker failed (the engine retries them), by job type and error type."
      filter      = "${local.worker_log_filter} AND jsonPayload.event=\"job_failed\""
      labels = {
        job_type   = { extract = "jsonPayload.job_type", description = "verify-payment, reserve-inventory, send-notification, fail-order or record-canceled" }
        error_type = { extract = "jsonPayload.error_type", description = "the Python exception type" }
      }
    }
    jobs_out_of_retries = {
      description = "Zeebe jobs failed with no retries left: each one is an incident in Operate and an order that stopped."
      filter      = "${local.worker_log_filter} AND jsonPayload.event=\"job_failed\" AND jsonPayload.retries_left=0"
      labels = {
        job_type = { extract = "jsonPayload.job_type", description = "the job type that raised the incident" }
      }
    }
    worker_heartbeats = {
      description = "Heartbeats of the worker processes (one a WORKER_HEARTBEAT_SECONDS per process), by whether the worker could poll the engine."
      filter      = "${local.worker_log_filter} AND jsonPayload.event=\"worker_heartbeat\""
      labels = {
        polling = { extract = "jsonPayload.polling", description = "true while the worker polls the engine, false while it cannot reach it" }
      }
    }
    open_incidents = {
      description = "Open incidents in Camunda, one per incident per check of the incident checker (every 5 minutes), whoever raised them."
      filter      = "${local.incident_checker_log_filter} AND jsonPayload.event=\"incident_open\""
      labels = {
        bpmn_process_id = { extract = "jsonPayload.bpmn_process_id", description = "the process of the instance with the incident" }
        error_type      = { extract = "jsonPayload.error_type", description = "Camunda's incident type, e.g. JOB_NO_RETRIES or EXTRACT_VALUE_ERROR" }
      }
    }
    incident_checks = {
      description = "Checks the incident checker completed (its summary line): none for 10 minutes means the checker does not run."
      filter      = "${local.incident_checker_log_filter} AND jsonPayload.event=\"incident_check\""
      labels      = {}
    }
    incident_check_failures = {
      description = "Checks that could not ask Camunda for incidents (its API unreachable or refusing the checker's client)."
      filter      = "${local.incident_checker_log_filter} AND jsonPayload.event=\"incident_check_failed\""
      labels      = {}
    }
  }
}

resource "google_logging_metric" "counted" {
  for_each = local.log_metrics

  project     = var.project_id
  name        = "${var.name_prefix}_${each.key}"
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key         = labels.key
        value_type  = "STRING"
        description = labels.value.description
      }
    }
  }

  label_extractors = { for key, label in each.value.labels : key => "EXTRACT(${label.extract})" }

  depends_on = [google_project_service.required]
}

# ---------------------------------------------------------------------------------------------------
# Alert policies. Each documentation text says what the alert means, what to check and what to do, and
# links the alert's section of the runbook (var.runbook_url, docs/runbook.md in this repository).
# ---------------------------------------------------------------------------------------------------
locals {
  alert_documentation = {
    function_5xx = {
      means = "A function answered more than ${var.alert_5xx_per_5_minutes} 5xx in 5 minutes, for ${var.alert_5xx_minutes} minutes. 503: Medusa or the engine could not be used (senders retry, orders are delayed, not lost); 500: a bug."
      check = "The dashboard's \"Refused requests by error\" chart names the error (medusa_unavailable, medusa_auth_failed, engine_unavailable, ...); the function's log lines with jsonPayload.event=\"request_refused\"."
      act   = "Bring Medusa or the engine back, or fix the secret or credentials the error names; for a 500, read the stack_trace in the function's log."
      page  = "function-answers-5xx"
    }
    worker_failing = {
      means = "A worker task exited non-zero or a worker execution failed after Cloud Run's retries."
      check = "gcloud run jobs executions list --job ${local.worker_job_name} --region ${var.region}, and the failed task's log (bad settings exit 2, model not deployed, a crash)."
      act   = "Fix the cause the log names; the next scheduled start brings a worker back, or start one: gcloud run jobs execute ${local.worker_job_name} --region ${var.region}."
      page  = "worker-executions-failing"
    }
    jobs_out_of_retries = {
      means = "A worker failed a job with no retries left: Camunda raised an incident and the order waits for a person."
      check = "The worker's job_failed line (order_id, job_type, error) and the incident in Camunda Operate."
      act   = "Fix the cause, then retry the incident in Operate (or from the order's page in Medusa's admin)."
      page  = "jobs-out-of-retries"
    }
    no_worker_polling = {
      means = "No worker logged a polling heartbeat for 5 minutes: no worker runs, or none can reach the engine. Orders wait."
      check = "Heartbeat lines (jsonPayload.event=\"worker_heartbeat\"): none at all means no worker runs; polling=false means the engine is unreachable from the workers."
      act   = "Start a worker (job: gcloud run jobs execute; pool: check its instances), or restore the engine connection (Camunda status, client credentials, Cloud NAT)."
      page  = "no-worker-polling"
    }
    open_incidents = {
      means = "Camunda has open incidents (the incident checker's incident_open lines): the orders concerned stop until someone resolves them, whoever raised the incident (a worker out of retries, or the engine: an expression or a timer it cannot evaluate)."
      check = "The incident_open lines name the order_id, process_instance_key, error_type and error_message; the instance in Camunda Operate."
      act   = "Fix the cause, then retry the incident in Operate or from the order's page in Medusa's admin; an instance that cannot continue: the admin's \"Restart workflow\" action."
      page  = "open-incidents"
    }
    incident_checker_failing = {
      means = "The incident checker could not ask Camunda for incidents, failed, or has not completed a check for 10 minutes: incidents would go unnoticed."
      check = "Its incident_check_failed lines (the error), gcloud run jobs executions list --job ${local.incident_checker_job_name} --region ${var.region}, and its scheduler job (paused?)."
      act   = "Fix the checker's Camunda client (CAMUNDA_API_URL, its client id and secret, its permissions) or resume its scheduler; meanwhile look at Operate for incidents."
      page  = "incident-checker-failing"
    }
    webhook_refusals = {
      means = "The order webhook refused more than ${var.alert_webhook_refusals_per_10_minutes} requests with 401 (signature) or 400 (malformed event) in 10 minutes. The plugin does not retry these: each refusal is an order that did not start."
      check = "The webhook's request_refused lines (error: invalid_signature, invalid_body, ...); Medusa's log for the plugin's webhook deliveries."
      act   = "401: make the plugin's webhookSecret hold the ORDER_WEBHOOK_SECRET version the function uses; 400: a plugin and cloud side of different versions. Then resend the orders from the admin widget."
      page  = "webhook-refusals"
    }
    stalled_orders = {
      means = "Fewer orders reached a terminal status in the last ${var.stalled_order_lookback_minutes} minutes than orders started in that window up to ${var.stalled_order_minutes} minutes ago, not counting orders waiting for their payment (awaiting_payment)."
      check = "The no-worker and incident alerts, the worker's job_failed lines, Medusa's health; workflow_status on the orders in Medusa's admin."
      act   = "Bring back what stopped (worker, engine, Medusa); orders continue by themselves once it is back."
      page  = "stalled-orders"
    }
  }
  alert_documentation_text = {
    for name, doc in local.alert_documentation :
    name => "**What it means.** ${doc.means}\n\n**What to check.** ${doc.check}\n\n**What to do.** ${doc.act}\n\nRunbook: ${var.runbook_url}#${doc.page}"
  }
}

resource "google_monitoring_alert_policy" "function_5xx" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: function answers 5xx"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "ERROR"

  documentation {
    content   = local.alert_documentation_text.function_5xx
    mime_type = "text/markdown"
  }

  dynamic "conditions" {
    for_each = local.function_names
    content {
      display_name = "${conditions.value} 5xx answers"
      condition_threshold {
        filter          = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${conditions.value}\" AND metric.type=\"run.googleapis.com/request_count\" AND metric.labels.response_code_class=\"5xx\""
        comparison      = "COMPARISON_GT"
        threshold_value = var.alert_5xx_per_5_minutes
        # Sustained, not a blip: senders retry 503s, so a short Medusa or engine outage delays orders only.
        duration = "${var.alert_5xx_minutes * 60}s"

        aggregations {
          alignment_period     = "300s"
          per_series_aligner   = "ALIGN_SUM"
          cross_series_reducer = "REDUCE_SUM"
        }
      }
    }
  }

  depends_on = [google_project_service.required, terraform_data.guards]
}

resource "google_monitoring_alert_policy" "worker_failing" {
  count = local.worker_on_job ? 1 : 0

  project               = var.project_id
  display_name          = "${var.name_prefix}: worker executions failing"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "CRITICAL"

  documentation {
    content   = local.alert_documentation_text.worker_failing
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "worker task attempts exiting non-zero"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.worker_job_name}\" AND metric.type=\"run.googleapis.com/job/completed_task_attempt_count\" AND metric.labels.result=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "worker executions failed"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.worker_job_name}\" AND metric.type=\"run.googleapis.com/job/completed_execution_count\" AND metric.labels.result=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  depends_on = [google_project_service.required, terraform_data.guards]
}

resource "google_monitoring_alert_policy" "jobs_out_of_retries" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: jobs out of retries (incidents)"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "ERROR"

  documentation {
    content   = local.alert_documentation_text.jobs_out_of_retries
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "jobs failed with no retries left"
    condition_threshold {
      filter          = "resource.type=\"${local.worker_resource_type}\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["jobs_out_of_retries"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  depends_on = [terraform_data.guards]
}

# The workers log a heartbeat every WORKER_HEARTBEAT_SECONDS (default 60) with polling=true while they poll
# the engine. No polling heartbeat from any worker for 5 minutes: nothing takes the orders' jobs.
resource "google_monitoring_alert_policy" "no_worker_polling" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: no worker polling"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "CRITICAL"

  documentation {
    content   = local.alert_documentation_text.no_worker_polling
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "no polling heartbeat for 5 minutes"
    condition_absent {
      filter   = "resource.type=\"${local.worker_resource_type}\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["worker_heartbeats"].name}\" AND metric.labels.polling=\"true\""
      duration = "300s"

      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  depends_on = [terraform_data.guards]
}

# The incident checker logs one incident_open line per open incident every 5 minutes: the alert is open
# while incidents are, and fires at the first check that sees one (within 10 minutes of the incident).
resource "google_monitoring_alert_policy" "open_incidents" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: open incidents in Camunda"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "ERROR"

  documentation {
    content   = local.alert_documentation_text.open_incidents
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "open incidents seen by the incident checker"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["open_incidents"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  depends_on = [terraform_data.guards]
}

resource "google_monitoring_alert_policy" "incident_checker_failing" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: incident checker failing"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "ERROR"

  documentation {
    content   = local.alert_documentation_text.incident_checker_failing
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "checks that could not reach Camunda's API"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["incident_check_failures"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "incident checker executions failed"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.incident_checker_job_name}\" AND metric.type=\"run.googleapis.com/job/completed_execution_count\" AND metric.labels.result=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  # Two missed checks in a row (the scheduler paused, the job cannot start): incidents go unseen.
  conditions {
    display_name = "no completed check for 10 minutes"
    condition_absent {
      filter   = "resource.type=\"cloud_run_job\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["incident_checks"].name}\""
      duration = "600s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  depends_on = [google_project_service.required, terraform_data.guards]
}

# A secret mismatch makes the webhook answer 401 to every order, and the plugin does not retry 4xx: no 5xx,
# no process start, nothing else fires. The refusals themselves are the signal.
resource "google_monitoring_alert_policy" "webhook_refusals" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: order webhook refusing events"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "CRITICAL"

  documentation {
    content   = local.alert_documentation_text.webhook_refusals
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "webhook answers 401 or 400"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["refused_requests"].name}\" AND metric.labels.function=\"${local.function_names.webhook}\" AND metric.labels.http_status=monitoring.regex.full_match(\"400|401\")"
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_webhook_refusals_per_10_minutes
      duration        = "0s"

      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  depends_on = [terraform_data.guards]
}

# Orders started more than N minutes ago must have reached a terminal status by now, unless they wait for
# their payment. Log-based metrics cannot follow one order, so this compares counts over the lookback
# window L: orders the webhook started in [L, N minutes ago], less the orders that entered the payment
# wait in that window (awaiting_payment is written once per order, right after its start; the model's
# payment_max_wait, 3 days, is far longer than L, so all of them are within their allowed wait), against
# the terminal statuses applied in the whole window. It fires when orders stop finishing (worker down,
# engine stalled, Medusa down); it is lenient where counts blur (an order that waited, was paid and finished
# in the window is excused twice), and one stuck order among many that finish shows as an incident instead.
resource "google_monitoring_alert_policy" "stalled_orders" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: orders without a terminal status after ${var.stalled_order_minutes} minutes"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "CRITICAL"

  documentation {
    content   = local.alert_documentation_text.stalled_orders
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "orders started but not finished, payment waits excepted"
    condition_prometheus_query_language {
      query               = <<-EOT
        (
          (sum(increase(${local.promql_webhook_outcomes}{outcome="started"}[${var.stalled_order_lookback_minutes - var.stalled_order_minutes}m] offset ${var.stalled_order_minutes}m)) or vector(0))
          -
          (sum(increase(${local.promql_status_updates}{status="awaiting_payment",applied="true"}[${var.stalled_order_lookback_minutes - var.stalled_order_minutes}m] offset ${var.stalled_order_minutes}m)) or vector(0))
        )
        >
        (sum(increase(${local.promql_status_updates}{terminal="true",applied="true"}[${var.stalled_order_lookback_minutes}m])) or vector(0))
      EOT
      duration            = "600s"
      evaluation_interval = "300s"
    }
  }

  depends_on = [google_logging_metric.counted, terraform_data.guards]
}

# ---------------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------------
locals {
  dashboard_charts = [
    {
      title  = "Function requests by response class"
      filter = "resource.type=\"cloud_run_revision\" AND resource.label.service_name=monitoring.regex.full_match(\"${local.function_names.webhook}|${local.function_names.status}\") AND metric.type=\"run.googleapis.com/request_count\""
      group  = ["resource.label.service_name", "metric.label.response_code_class"]
    },
    {
      title  = "Webhook outcomes"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["webhook_outcomes"].name}\""
      group  = ["metric.label.outcome"]
    },
    {
      title  = "Refused requests by error"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["refused_requests"].name}\""
      group  = ["metric.label.function", "metric.label.error"]
    },
    {
      title  = "Statuses applied and refused"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["status_updates"].name}\""
      group  = ["metric.label.status", "metric.label.applied"]
    },
    {
      title  = "Failed jobs by type"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["job_failures"].name}\""
      group  = ["metric.label.job_type"]
    },
    {
      title  = "Jobs out of retries (incidents)"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["jobs_out_of_retries"].name}\""
      group  = ["metric.label.job_type"]
    },
    {
      title  = "Worker task attempts by result"
      filter = "resource.type=\"cloud_run_job\" AND resource.label.job_name=\"${local.worker_job_name}\" AND metric.type=\"run.googleapis.com/job/completed_task_attempt_count\""
      group  = ["metric.label.result"]
    },
    {
      title  = "Worker heartbeats by polling"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["worker_heartbeats"].name}\""
      group  = ["metric.label.polling"]
    },
    {
      title  = "Open incidents (per check) by type"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["open_incidents"].name}\""
      group  = ["metric.label.error_type"]
    },
    {
      title  = "Incident checks completed"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["incident_checks"].name}\""
      group  = []
    },
    {
      title  = "Incident checks failed"
      filter = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["incident_check_failures"].name}\""
      group  = []
    },
    {
      title   = "Function instances"
      filter  = "resource.type=\"cloud_run_revision\" AND resource.label.service_name=monitoring.regex.full_match(\"${local.function_names.webhook}|${local.function_names.status}\") AND metric.type=\"run.googleapis.com/container/instance_count\""
      group   = ["resource.label.service_name"]
      aligner = "ALIGN_MAX"
    },
  ]
}

resource "google_monitoring_dashboard" "fulfillment" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "${var.name_prefix}: order fulfillment"
    mosaicLayout = {
      columns = 48
      tiles = [
        for index, chart in local.dashboard_charts : {
          xPos   = (index % 2) * 24
          yPos   = floor(index / 2) * 16
          width  = 24
          height = 16
          widget = {
            title = chart.title
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = chart.filter
                    aggregation = {
                      alignmentPeriod    = "300s"
                      perSeriesAligner   = lookup(chart, "aligner", "ALIGN_SUM")
                      crossSeriesReducer = "REDUCE_SUM"
                      groupByFields      = chart.group
                    }
                  }
                }
              }]
            }
          }
        }
      ]
    }
  })

  depends_on = [google_project_service.required]
}
