WITH "experiment_events" AS (
  SELECT
    "events"."exp_variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS DOUBLE) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS DOUBLE) AS "event_value",
    CASE
      WHEN "events"."unit_type" = 'session'
      AND "events"."agg_type" = 'global'
      AND "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."unit_type" = 'session'
      AND "events"."agg_type" = 'unit'
      AND "events"."goal" = 'conversion'
      THEN 1
      WHEN "events"."unit_type" = 'session'
      AND "events"."agg_type" = 'unit'
      AND "events"."goal" = 'refund'
      THEN 2
    END AS "term_index"
  FROM "events" AS "events"
  WHERE
    "events"."exp_id" = 'exp-2'
    AND "events"."date" >= CAST('2024-03-02' AS DATE)
    AND "events"."date" < CAST('2024-03-10' AS DATE)
    AND "events"."unit_type" = 'session'
    AND "events"."agg_type" IN ('global', 'unit')
    AND "events"."goal" IN ('exposure', 'conversion', 'refund')
), "unit_goals" AS (
  SELECT
    "variant_id",
    "unit_id",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 2 THEN "event_cnt" ELSE 0 END) AS "count_2",
    SUM(CASE WHEN "term_index" = 1 THEN "event_value" ELSE 0 END) AS "value_1"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_index" = 0 THEN 1 END) > 0
), "unit_metrics" AS (
  SELECT
    *,
    CAST(0 AS DOUBLE) AS "expression_2",
    CAST(CASE WHEN "count_2" > 0 THEN 1 ELSE 0 END AS DOUBLE) AS "expression_3"
  FROM "unit_goals"
), "variant_sums" AS (
  SELECT
    "variant_id",
    COUNT(*) AS "n",
    SUM("value_1") AS "sum_0",
    SUM("count_0") AS "sum_1",
    SUM("expression_2") AS "sum_2",
    SUM("expression_3") AS "sum_3",
    SUM("value_1" * "value_1") AS "sum_0_0",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("expression_2" * "expression_2") AS "sum_2_2",
    SUM("expression_3" * "expression_3") AS "sum_3_3",
    SUM("value_1" * "count_0") AS "sum_0_1",
    SUM("expression_2" * "count_0") AS "sum_2_1",
    SUM("expression_3" * "count_0") AS "sum_3_1"
  FROM "unit_metrics"
  GROUP BY
    "variant_id"
)
SELECT
  'exp-2' AS "exp_id",
  "variant_id" AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "n" AS "n",
  CASE "row_index"
    WHEN 0
    THEN "sum_0"
    WHEN 1
    THEN "sum_2"
    WHEN 2
    THEN "sum_3"
    WHEN 3
    THEN "sum_1"
  END AS "sum_x",
  CASE "row_index"
    WHEN 0
    THEN "sum_0_0"
    WHEN 1
    THEN "sum_2_2"
    WHEN 2
    THEN "sum_3_3"
    WHEN 3
    THEN "sum_1_1"
  END AS "sum_x2",
  "sum_1" AS "sum_y",
  "sum_1_1" AS "sum_y2",
  CASE "row_index"
    WHEN 0
    THEN "sum_0_1"
    WHEN 1
    THEN "sum_2_1"
    WHEN 2
    THEN "sum_3_1"
    WHEN 3
    THEN "sum_1_1"
  END AS "sum_xy"
FROM "variant_sums"
CROSS JOIN (VALUES
  (0, '1'),
  (1, '@check:srm'),
  (2, '@check:eva'),
  (3, '@exposure')) AS "metric_rows"("row_index", "metric_id")
