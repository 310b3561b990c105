WITH "experiment_events" AS (
  SELECT
    "events"."variant" AS "variant_id",
    "events"."entity_id" AS "unit_id",
    CAST(COALESCE("events"."event_count", 0) AS DOUBLE PRECISION) AS "event_cnt",
    CAST(COALESCE("events"."revenue", 0) AS DOUBLE PRECISION) AS "event_value",
    CASE
      WHEN "events"."entity_type" = 'user' AND "events"."event_name" = 'exposure'
      THEN 0
      WHEN "events"."entity_type" = 'user' AND "events"."event_name" = 'purchase'
      THEN CASE WHEN "events"."country" IN ('CZ', 'SK') THEN 1 END
    END AS "term_index"
  FROM "analytics-prod"."experiments"."attributed_events" AS "events"
  WHERE
    "events"."experiment_id" = 'checkout-2024'
    AND "events"."event_date" >= CAST('2024-01-01' AS DATE)
    AND "events"."entity_type" = 'user'
    AND (
      "events"."event_name" = 'exposure'
      OR (
        "events"."entity_type" = 'user'
        AND "events"."event_name" = 'purchase'
        AND "events"."country" IN ('CZ', 'SK')
      )
    )
), "unit_goals" AS (
  SELECT
    "variant_id",
    "unit_id",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 1 THEN "event_value" ELSE 0 END) AS "value_1"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_index" = 0 THEN 1 END) > 0
), "unit_metrics" AS (
  SELECT
    *
  FROM "unit_goals"
), "variant_sums" AS (
  SELECT
    "variant_id",
    COUNT(*) AS "n",
    SUM("value_1") AS "sum_0",
    SUM("count_0") AS "sum_1",
    SUM("value_1" * "value_1") AS "sum_0_0",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("value_1" * "count_0") AS "sum_0_1"
  FROM "unit_metrics"
  GROUP BY
    "variant_id"
)
SELECT
  'checkout-2024' AS "exp_id",
  "variant_id" AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "n" AS "n",
  CASE "row_index" WHEN 0 THEN "sum_0" WHEN 1 THEN "sum_1" END AS "sum_x",
  CASE "row_index" WHEN 0 THEN "sum_0_0" WHEN 1 THEN "sum_1_1" END AS "sum_x2",
  "sum_1" AS "sum_y",
  "sum_1_1" AS "sum_y2",
  CASE "row_index" WHEN 0 THEN "sum_0_1" WHEN 1 THEN "sum_1_1" END AS "sum_xy"
FROM "variant_sums"
CROSS JOIN (VALUES
  (0, '1'),
  (1, '@exposure')) AS "metric_rows"("row_index", "metric_id")
