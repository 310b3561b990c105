WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."timestamp" AS "exposure_timestamp"
  FROM "experiments"."exposures" AS "exposures"
  WHERE
    "exposures"."exp_id" = 'exp-1'
    AND NOT "exposures"."unit_id" IS NULL
    AND NOT "exposures"."variant_id" IS NULL
    AND NOT "exposures"."timestamp" IS NULL
    AND "exposures"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "exposures"."timestamp" < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
), "exposed_units" AS (
  SELECT
    "unit_id",
    CASE WHEN MIN("variant_id") = MAX("variant_id") THEN MIN("variant_id") END AS "unit_variant",
    MIN("exposure_timestamp") AS "first_exposure"
  FROM "experiment_exposures"
  GROUP BY
    "unit_id"
), "attributed_events" AS (
  SELECT
    "experiment_exposures"."variant_id" AS "variant_id",
    "experiment_exposures"."unit_id" AS "unit_id",
    'exposure' AS "goal",
    1 AS "cnt",
    CAST(NULL AS DOUBLE) AS "value",
    CASE WHEN "exposed_units"."unit_variant" IS NULL THEN 1 ELSE 0 END AS "excluded",
    CAST(NULL AS VARCHAR) AS "platform",
    CAST(NULL AS VARCHAR) AS "product"
  FROM "experiment_exposures"
  JOIN "exposed_units"
    ON "experiment_exposures"."unit_id" = "exposed_units"."unit_id"
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."action" AS "goal",
    1 AS "cnt",
    CAST(NULL AS DOUBLE) AS "value",
    0 AS "excluded",
    "events"."platform" AS "platform",
    CAST(NULL AS VARCHAR) AS "product"
  FROM "analytics"."page_events" AS "events"
  JOIN "exposed_units"
    ON "events"."user_id" = "exposed_units"."unit_id"
    AND NOT "exposed_units"."unit_variant" IS NULL
  WHERE
    "events"."action" IN ('click', 'view')
    AND "events"."ts" >= "exposed_units"."first_exposure"
    AND "events"."ts" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "events"."ts" < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
    AND "events"."event_date" >= CAST('2024-03-01' AS DATE)
    AND "events"."event_date" < CAST('2024-03-15' AS DATE)
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    'purchase' AS "goal",
    1 AS "cnt",
    "events"."amount" AS "value",
    0 AS "excluded",
    CAST(NULL AS VARCHAR) AS "platform",
    "events"."product" AS "product"
  FROM "shop"."orders" AS "events"
  JOIN "exposed_units"
    ON CAST("events"."customer_id" AS VARCHAR) = "exposed_units"."unit_id"
    AND NOT "exposed_units"."unit_variant" IS NULL
  WHERE
    "events"."ordered_at" >= "exposed_units"."first_exposure"
    AND "events"."ordered_at" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "events"."ordered_at" < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."excluded" AS "excluded",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS DOUBLE) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS DOUBLE) AS "event_value",
    CASE
      WHEN "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."goal" = 'click'
      THEN CASE WHEN "events"."platform" = 'web' THEN 1 END
      WHEN "events"."goal" = 'purchase'
      THEN CASE WHEN "events"."product" = 'p_1' THEN 2 END
      WHEN "events"."goal" = 'view'
      THEN 3
    END AS "term_index"
  FROM "attributed_events" AS "events"
  WHERE
    "events"."goal" IN ('exposure', 'view')
    OR (
      "events"."goal" = 'click' AND "events"."platform" = 'web'
    )
    OR (
      "events"."goal" = 'purchase' AND "events"."product" = 'p_1'
    )
), "unit_goals" AS (
  SELECT
    "variant_id",
    "excluded",
    "unit_id",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 1 THEN "event_cnt" ELSE 0 END) AS "count_1",
    SUM(CASE WHEN "term_index" = 3 THEN "event_cnt" ELSE 0 END) AS "count_3",
    SUM(CASE WHEN "term_index" = 2 THEN "event_value" ELSE 0 END) AS "value_2"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "excluded",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_index" = 0 THEN 1 END) > 0
), "unit_metrics" AS (
  SELECT
    *,
    CAST(CASE WHEN "count_3" > 0 THEN 1 ELSE 0 END AS DOUBLE) AS "expression_3",
    CAST(0 AS DOUBLE) AS "expression_4"
  FROM "unit_goals"
), "variant_sums" AS (
  SELECT
    "variant_id",
    "excluded",
    COUNT(*) AS "n",
    SUM("count_1") AS "sum_0",
    SUM("count_0") AS "sum_1",
    SUM("value_2") AS "sum_2",
    SUM("expression_3") AS "sum_3",
    SUM("expression_4") AS "sum_4",
    SUM("count_1" * "count_1") AS "sum_0_0",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("value_2" * "value_2") AS "sum_2_2",
    SUM("expression_3" * "expression_3") AS "sum_3_3",
    SUM("expression_4" * "expression_4") AS "sum_4_4",
    SUM("count_1" * "count_0") AS "sum_0_1",
    SUM("value_2" * "expression_3") AS "sum_2_3",
    SUM("expression_4" * "count_0") AS "sum_4_1"
  FROM "unit_metrics"
  GROUP BY
    "variant_id",
    "excluded"
)
SELECT
  'exp-1' AS "exp_id",
  CASE WHEN "excluded" = 1 THEN '@multiple:' || "variant_id" ELSE "variant_id" END AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "n" AS "n",
  CASE "row_index"
    WHEN 0
    THEN "sum_0"
    WHEN 1
    THEN "sum_2"
    WHEN 2
    THEN "sum_4"
    WHEN 3
    THEN "sum_1"
  END AS "sum_x",
  CASE "row_index"
    WHEN 0
    THEN "sum_0_0"
    WHEN 1
    THEN "sum_2_2"
    WHEN 2
    THEN "sum_4_4"
    WHEN 3
    THEN "sum_1_1"
  END AS "sum_x2",
  CASE "row_index"
    WHEN 0
    THEN "sum_1"
    WHEN 1
    THEN "sum_3"
    WHEN 2
    THEN "sum_1"
    WHEN 3
    THEN "sum_1"
  END AS "sum_y",
  CASE "row_index"
    WHEN 0
    THEN "sum_1_1"
    WHEN 1
    THEN "sum_3_3"
    WHEN 2
    THEN "sum_1_1"
    WHEN 3
    THEN "sum_1_1"
  END AS "sum_y2",
  CASE "row_index"
    WHEN 0
    THEN "sum_0_1"
    WHEN 1
    THEN "sum_2_3"
    WHEN 2
    THEN "sum_4_1"
    WHEN 3
    THEN "sum_1_1"
  END AS "sum_xy"
FROM "variant_sums"
CROSS JOIN (VALUES
  (0, '1'),
  (1, '2'),
  (2, '@check:1'),
  (3, '@exposure')) AS "metric_rows"("row_index", "metric_id")
