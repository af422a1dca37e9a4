# Monitoring: log-based metrics from the JSON log lines the code writes (each carries an `event` field for
# this purpose), alert policies that page through var.alert_notification_channels, and one dashboard.
# tests/terraform/test_monitoring.py runs the code, collects the lines it logs and checks that every
# metric's filter matches them and that every label it extracts is there.
locals {
  function_log_filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=(\"${local.function_names.webhook}\" OR \"${local.function_names.status}\")"
  webhook_log_filter  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.function_names.webhook}\""
  status_log_filter   = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.function_names.status}\""
  worker_log_filter   = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${local.worker_job_name}\""

  # PromQL spells a log-based metric logging_googleapis_com:user_NAME, with - and . as _.
  promql_status_updates   = "logging_googleapis_com:user_${replace("${var.name_prefix}_status_updates", "-", "_")}"
  promql_webhook_outcomes = "logging_googleapis_com:user_${replace("${var.name_prefix}_webhook_outcomes", "-", "_")}"

  alert_documentation = "Runbook: terraform/README.md, section \"Monitoring and alerts\"."
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
        terminal = { extract = "jsonPayload.terminal", description = "true for completed, payment_failed, out_of_stock, failed and canceled" }
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
# Alert policies
# ---------------------------------------------------------------------------------------------------
resource "google_monitoring_alert_policy" "function_5xx" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: function answers 5xx"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "ERROR"

  documentation {
    content   = "A function answered 5xx more than ${var.alert_5xx_per_5_minutes} times in 5 minutes. 503 means Medusa or the engine could not be used (senders retry); 500 is a bug. The refused_requests metric names the error. ${local.alert_documentation}"
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
        duration        = "0s"

        aggregations {
          alignment_period     = "300s"
          per_series_aligner   = "ALIGN_SUM"
          cross_series_reducer = "REDUCE_SUM"
        }
      }
    }
  }

  depends_on = [google_project_service.required]
}

resource "google_monitoring_alert_policy" "worker_failing" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: worker executions failing"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "CRITICAL"

  documentation {
    content   = "A worker task exited non-zero (a crash, or the Zeebe gateway unreachable for too long) or a whole execution failed after Cloud Run's retries. While no worker polls, orders wait. ${local.alert_documentation}"
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "worker task attempts exiting non-zero"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${google_cloud_run_v2_job.worker.name}\" AND metric.type=\"run.googleapis.com/job/completed_task_attempt_count\" AND metric.labels.result=\"failed\""
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
      filter          = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=\"${google_cloud_run_v2_job.worker.name}\" AND metric.type=\"run.googleapis.com/job/completed_execution_count\" AND metric.labels.result=\"failed\""
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

  depends_on = [google_project_service.required]
}

resource "google_monitoring_alert_policy" "jobs_out_of_retries" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: jobs out of retries (incidents)"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "ERROR"

  documentation {
    content   = "A Zeebe job failed with no retries left: the engine raised an incident and the order waits for an operator. Resolve it in Camunda Operate (the worker's log line names the error). ${local.alert_documentation}"
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "jobs failed with no retries left"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_job\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.counted["jobs_out_of_retries"].name}\""
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
}

# Orders started more than N minutes ago must have reached a terminal status by now. Log-based metrics
# cannot follow one order, so this compares counts: fewer terminal statuses in the last lookback window
# than orders started in that window before its last N minutes means orders are stuck. An order counts as
# started when the order webhook started its process (the workers report no `started` status). It never fires
# while every order finishes within N minutes; it fires when orders stop finishing (worker down, engine
# stalled), and a single stuck order among many that finish is the incident alert's and Operate's to show.
resource "google_monitoring_alert_policy" "stalled_orders" {
  project               = var.project_id
  display_name          = "${var.name_prefix}: orders without a terminal status after ${var.stalled_order_minutes} minutes"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  severity              = "CRITICAL"

  documentation {
    content   = "Fewer orders reached a terminal status (completed, payment_failed, out_of_stock, cancel_refused, canceled) in the last ${var.stalled_order_lookback_minutes} minutes than started in that window up to ${var.stalled_order_minutes} minutes ago. Check the worker job, the engine and the order's workflow_status in Medusa. ${local.alert_documentation}"
    mime_type = "text/markdown"
  }

  conditions {
    display_name = "orders started but not finished"
    condition_prometheus_query_language {
      query               = <<-EOT
        (sum(increase(${local.promql_webhook_outcomes}{outcome="started"}[${var.stalled_order_lookback_minutes - var.stalled_order_minutes}m] offset ${var.stalled_order_minutes}m)) or vector(0))
        >
        (sum(increase(${local.promql_status_updates}{terminal="true",applied="true"}[${var.stalled_order_lookback_minutes}m])) or vector(0))
      EOT
      duration            = "600s"
      evaluation_interval = "300s"
    }
  }

  lifecycle {
    precondition {
      condition     = var.stalled_order_lookback_minutes >= 2 * var.stalled_order_minutes
      error_message = "stalled_order_lookback_minutes must be at least twice stalled_order_minutes."
    }
  }

  depends_on = [google_logging_metric.counted]
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
      filter = "resource.type=\"cloud_run_job\" AND resource.label.job_name=\"${google_cloud_run_v2_job.worker.name}\" AND metric.type=\"run.googleapis.com/job/completed_task_attempt_count\""
      group  = ["metric.label.result"]
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
