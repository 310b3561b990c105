WITH "experiment_events" AS (
  SELECT
    "events"."exp_variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS REAL) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS REAL) AS "event_value",
    CASE
      WHEN "events"."unit_type" = 'user'
      AND "events"."agg_type" = 'global'
      AND "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."unit_type" = 'user'
      AND "events"."agg_type" = 'unit'
      AND "events"."goal" = 'conversion'
      THEN 1
      WHEN "events"."unit_type" = 'user'
      AND "events"."agg_type" = 'unit'
      AND "events"."goal" = 'refund'
      THEN 2
      WHEN "events"."unit_type" = 'user'
      AND "events"."agg_type" = 'unit'
      AND "events"."goal" = 'click'
      THEN 3
      WHEN "events"."unit_type" = 'user'
      AND "events"."agg_type" = 'unit'
      AND "events"."goal" = 'view'
      THEN 4
    END AS "term_index"
  FROM "events" AS "events"
  WHERE
    "events"."exp_id" = 'exp-1'
    AND "events"."unit_type" = 'user'
    AND "events"."agg_type" IN ('global', 'unit')
    AND "events"."goal" IN ('exposure', 'conversion', 'refund', 'click', 'view')
), "unit_goals" AS (
  SELECT
    "variant_id",
    "unit_id",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 2 THEN "event_cnt" ELSE 0 END) AS "count_2",
    SUM(CASE WHEN "term_index" = 3 THEN "event_cnt" ELSE 0 END) AS "count_3",
    SUM(CASE WHEN "term_index" = 4 THEN "event_cnt" ELSE 0 END) AS "count_4",
    SUM(CASE WHEN "term_index" = 1 THEN "event_value" ELSE 0 END) AS "value_1",
    SUM(CASE WHEN "term_index" = 2 THEN "event_value" ELSE 0 END) AS "value_2"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_index" = 0 THEN 1 END) > 0
), "unit_metrics" AS (
  SELECT
    *,
    "value_1" - "value_2" AS "expression_0",
    CAST(CASE WHEN "count_3" > 0 THEN 1 ELSE 0 END - CASE WHEN "count_2" > 0 THEN 1 ELSE 0 END AS REAL) AS "expression_2",
    COALESCE(CAST("count_3" AS REAL) / NULLIF("count_4", 0), 0) AS "expression_3",
    CAST(1 AS REAL) AS "expression_4",
    (
      0.25 * "value_1"
    ) + (
      2 * (
        -"count_3"
      )
    ) AS "expression_5",
    (
      "count_4" + 1
    ) * 3 AS "expression_6"
  FROM "unit_goals"
), "variant_sums" AS (
  SELECT
    "variant_id",
    COUNT(*) AS "n",
    SUM("expression_0") AS "sum_0",
    SUM("count_0") AS "sum_1",
    SUM("expression_2") AS "sum_2",
    SUM("expression_3") AS "sum_3",
    SUM("expression_4") AS "sum_4",
    SUM("expression_5") AS "sum_5",
    SUM("expression_6") AS "sum_6",
    SUM("expression_0" * "expression_0") AS "sum_0_0",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("expression_2" * "expression_2") AS "sum_2_2",
    SUM("expression_3" * "expression_3") AS "sum_3_3",
    SUM("expression_4" * "expression_4") AS "sum_4_4",
    SUM("expression_5" * "expression_5") AS "sum_5_5",
    SUM("expression_6" * "expression_6") AS "sum_6_6",
    SUM("expression_0" * "count_0") AS "sum_0_1",
    SUM("expression_2" * "count_0") AS "sum_2_1",
    SUM("expression_3" * "expression_4") AS "sum_3_4",
    SUM("expression_5" * "expression_6") AS "sum_5_6"
  FROM "unit_metrics"
  GROUP BY
    "variant_id"
)
SELECT
  'exp-1' AS "exp_id",
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
    THEN "sum_5"
    WHEN 4
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
    THEN "sum_5_5"
    WHEN 4
    THEN "sum_1_1"
  END AS "sum_x2",
  CASE "row_index"
    WHEN 0
    THEN "sum_1"
    WHEN 1
    THEN "sum_1"
    WHEN 2
    THEN "sum_4"
    WHEN 3
    THEN "sum_6"
    WHEN 4
    THEN "sum_1"
  END AS "sum_y",
  CASE "row_index"
    WHEN 0
    THEN "sum_1_1"
    WHEN 1
    THEN "sum_1_1"
    WHEN 2
    THEN "sum_4_4"
    WHEN 3
    THEN "sum_6_6"
    WHEN 4
    THEN "sum_1_1"
  END AS "sum_y2",
  CASE "row_index"
    WHEN 0
    THEN "sum_0_1"
    WHEN 1
    THEN "sum_2_1"
    WHEN 2
    THEN "sum_3_4"
    WHEN 3
    THEN "sum_5_6"
    WHEN 4
    THEN "sum_1_1"
  END AS "sum_xy"
FROM "variant_sums"
CROSS JOIN (
  SELECT
    0 AS "row_index",
    'net' AS "metric_id"
  UNION ALL
  SELECT
    1,
    'nps'
  UNION ALL
  SELECT
    2,
    'ratio'
  UNION ALL
  SELECT
    3,
    'weighted'
  UNION ALL
  SELECT
    4,
    '@exposure'
) AS "metric_rows"
