WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."arm" AS TEXT) AS "variant_id",
    "exposures"."account_id" AS "unit_id",
    "exposures"."assigned_at" AS "exposure_timestamp"
  FROM "analytics-prod"."experiments"."assignments" AS "exposures"
  WHERE
    "exposures"."experiment" = 'checkout-2024'
    AND NOT "exposures"."account_id" IS NULL
    AND NOT "exposures"."arm" IS NULL
    AND NOT "exposures"."assigned_at" IS NULL
), "exposed_units" AS (
  SELECT
    "unit_id",
    "variant_id" AS "unit_variant",
    "exposure_timestamp" AS "first_exposure"
  FROM (
    SELECT
      "unit_id",
      "variant_id",
      "exposure_timestamp",
      ROW_NUMBER() OVER (PARTITION BY "unit_id" ORDER BY "exposure_timestamp", "variant_id") AS "exposure_rank"
    FROM "experiment_exposures"
  ) AS "ranked_exposures"
  WHERE
    "exposure_rank" = 1
), "attributed_events" AS (
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "experiment_exposures"."unit_id" AS "unit_id",
    'exposure' AS "goal",
    1 AS "cnt",
    CAST(NULL AS DOUBLE) AS "value",
    CAST(NULL AS TEXT) AS "country"
  FROM "experiment_exposures"
  JOIN "exposed_units"
    ON "experiment_exposures"."unit_id" = "exposed_units"."unit_id"
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."event_name" AS "goal",
    "events"."quantity" AS "cnt",
    CAST(NULL AS DOUBLE) AS "value",
    "events"."country" AS "country"
  FROM "analytics-prod"."tracking"."events" AS "events"
  JOIN "exposed_units"
    ON "events"."account_id" = "exposed_units"."unit_id"
  WHERE
    "events"."event_name" IN ('page_view', 'checkout')
    AND "events"."occurred_at" >= "exposed_units"."first_exposure"
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS DOUBLE) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS DOUBLE) AS "event_value",
    CASE
      WHEN "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."goal" = 'page_view'
      THEN 1
      WHEN "events"."goal" = 'checkout'
      THEN CASE WHEN "events"."country" = 'CZ' THEN 2 END
    END AS "term_index",
    CASE WHEN "events"."goal" = 'page_view' THEN 1 ELSE 0 END AS "unit_filter_0"
  FROM "attributed_events" AS "events"
  WHERE
    (
      (
        "events"."goal" IN ('exposure', 'page_view')
        OR (
          "events"."goal" = 'checkout' AND "events"."country" = 'CZ'
        )
      )
      OR (
        "events"."goal" = 'page_view'
      )
    )
), "unit_goals" AS (
  SELECT
    "variant_id",
    "unit_id",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 1 THEN "event_cnt" ELSE 0 END) AS "count_1",
    SUM(CASE WHEN "term_index" = 2 THEN "event_cnt" ELSE 0 END) AS "count_2"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_index" = 0 THEN 1 END) > 0 AND MAX("unit_filter_0") = 1
), "unit_metrics" AS (
  SELECT
    *,
    CAST(CASE WHEN "count_0" > 0 THEN 1 ELSE 0 END AS DOUBLE) AS "expression_3"
  FROM "unit_goals"
), "nominator_caps_0" AS (
  SELECT
    QUANTILE_CONT("count_1", 0.99) AS "cap_0_0"
  FROM "unit_metrics"
), "capped_metrics" AS (
  SELECT
    "unit_metrics".*,
    CASE WHEN "count_1" > "cap_0_0" THEN "cap_0_0" ELSE "count_1" END AS "capped_4"
  FROM "unit_metrics"
  CROSS JOIN "nominator_caps_0"
), "variant_sums" AS (
  SELECT
    "variant_id",
    COUNT(*) AS "n",
    SUM("count_0") AS "sum_1",
    SUM("count_2") AS "sum_2",
    SUM("expression_3") AS "sum_3",
    SUM("capped_4") AS "sum_4",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("count_2" * "count_2") AS "sum_2_2",
    SUM("expression_3" * "expression_3") AS "sum_3_3",
    SUM("capped_4" * "capped_4") AS "sum_4_4",
    SUM("capped_4" * "count_0") AS "sum_4_1",
    SUM("count_2" * "expression_3") AS "sum_2_3"
  FROM "capped_metrics"
  GROUP BY
    "variant_id"
)
SELECT
  'checkout-2024' AS "exp_id",
  "variant_id" AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "n" AS "n",
  CASE "row_index" WHEN 0 THEN "sum_4" WHEN 1 THEN "sum_2" WHEN 2 THEN "sum_1" END AS "sum_x",
  CASE "row_index" WHEN 0 THEN "sum_4_4" WHEN 1 THEN "sum_2_2" WHEN 2 THEN "sum_1_1" END AS "sum_x2",
  CASE "row_index" WHEN 0 THEN "sum_1" WHEN 1 THEN "sum_3" WHEN 2 THEN "sum_1" END AS "sum_y",
  CASE "row_index" WHEN 0 THEN "sum_1_1" WHEN 1 THEN "sum_3_3" WHEN 2 THEN "sum_1_1" END AS "sum_y2",
  CASE "row_index" WHEN 0 THEN "sum_4_1" WHEN 1 THEN "sum_2_3" WHEN 2 THEN "sum_1_1" END AS "sum_xy"
FROM "variant_sums"
CROSS JOIN (VALUES
  (0, '1'),
  (1, '2'),
  (2, '@exposure')) AS "metric_rows"("row_index", "metric_id")
