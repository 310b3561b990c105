WITH "experiment_events" AS (
  SELECT
    "events"."exp_variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS Nullable(Float64)) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS Nullable(Float64)) AS "event_value",
    "events"."agg_type" = 'global' AND "events"."goal" = 'exposure' AS "term_goal_0",
    "events"."agg_type" = 'unit' AND "events"."goal" = 'conversion' AS "term_goal_1",
    "events"."agg_type" = 'unit' AND "events"."goal" = 'click' AS "term_goal_2",
    "events"."agg_type" = 'unit' AND "events"."goal" = 'view' AS "term_goal_3",
    "events"."agg_type" = 'unit' AND "events"."goal" = 'refund' AS "term_goal_4",
    "events"."product" = 'p_1' AS "term_filter_0",
    "events"."product" IN ('p_1', 'p_10') AS "term_filter_1",
    NOT (
      "events"."product" IN ('p_1', 'p_2')
    ) AS "term_filter_2",
    "events"."price" <> 7 AS "term_filter_3",
    startsWith("events"."product", 'p_') AS "term_filter_4",
    startsWith("events"."product", 'p%') OR startsWith("events"."product", 'q') AS "term_filter_5",
    "events"."product" = 'p%1' AS "term_filter_6",
    "events"."price" > 10 AS "term_filter_7",
    "events"."price" <= 3 AS "term_filter_8",
    "events"."product" < 'p_2' AS "term_filter_9",
    "events"."price" >= 5 AS "term_filter_10",
    "events"."product" < 'p_9' AS "term_filter_11",
    "events"."price" IN (1, 2, 3) AS "term_filter_12"
  FROM "events" AS "events"
  WHERE
    "events"."exp_id" = 'exp-1'
    AND "events"."unit_type" = 'user'
    AND "events"."agg_type" IN ('global', 'unit')
    AND (
      "events"."goal" = 'exposure'
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'conversion'
        AND (
          "events"."product" = 'p_1'
          OR "events"."price" > 10
          OR (
            "events"."price" <= 3 AND "events"."product" < 'p_2'
          )
        )
      )
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'click'
        AND "events"."product" IN ('p_1', 'p_10', 'p%1')
      )
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'view'
        AND (
          NOT (
            "events"."product" IN ('p_1', 'p_2')
          )
          OR "events"."price" <> 7
          OR (
            "events"."price" >= 5 AND "events"."product" < 'p_9'
          )
          OR "events"."price" IN (1, 2, 3)
        )
      )
      OR (
        "events"."unit_type" = 'user'
        AND "events"."agg_type" = 'unit'
        AND "events"."goal" = 'refund'
        AND (
          startsWith("events"."product", 'p_')
          OR (
            startsWith("events"."product", 'p%') OR startsWith("events"."product", 'q')
          )
        )
      )
    )
), "unit_goals" AS (
  SELECT
    "variant_id",
    "unit_id",
    COALESCE(SUM(CASE WHEN "term_goal_0" THEN "event_cnt" END), 0) AS "count_0",
    COALESCE(SUM(CASE WHEN "term_goal_2" AND "term_filter_1" THEN "event_cnt" END), 0) AS "count_2",
    COALESCE(SUM(CASE WHEN "term_goal_3" AND "term_filter_2" THEN "event_cnt" END), 0) AS "count_3",
    COALESCE(SUM(CASE WHEN "term_goal_3" AND "term_filter_3" THEN "event_cnt" END), 0) AS "count_4",
    COALESCE(SUM(CASE WHEN "term_goal_4" AND "term_filter_4" THEN "event_cnt" END), 0) AS "count_5",
    COALESCE(SUM(CASE WHEN "term_goal_4" AND "term_filter_5" THEN "event_cnt" END), 0) AS "count_6",
    COALESCE(SUM(CASE WHEN "term_goal_2" AND "term_filter_6" THEN "event_cnt" END), 0) AS "count_7",
    COALESCE(
      SUM(
        CASE
          WHEN "term_goal_1" AND "term_filter_8" AND "term_filter_9"
          THEN "event_cnt"
        END
      ),
      0
    ) AS "count_9",
    COALESCE(
      SUM(
        CASE
          WHEN "term_goal_3" AND "term_filter_10" AND "term_filter_11"
          THEN "event_cnt"
        END
      ),
      0
    ) AS "count_10",
    COALESCE(SUM(CASE WHEN "term_goal_3" AND "term_filter_12" THEN "event_cnt" END), 0) AS "count_11",
    COALESCE(SUM(CASE WHEN "term_goal_1" AND "term_filter_0" THEN "event_value" END), 0) AS "value_1",
    COALESCE(SUM(CASE WHEN "term_goal_1" AND "term_filter_7" THEN "event_value" END), 0) AS "value_8"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_goal_0" THEN 1 END) > 0
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
    SUM("count_2") AS "sum_2",
    SUM("count_3") AS "sum_3",
    SUM("count_4") AS "sum_4",
    SUM("count_5") AS "sum_5",
    SUM("count_6") AS "sum_6",
    SUM("count_7") AS "sum_7",
    SUM("value_8") AS "sum_8",
    SUM("count_9") AS "sum_9",
    SUM("count_10") AS "sum_10",
    SUM("count_11") AS "sum_11",
    SUM("value_1" * "value_1") AS "sum_0_0",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("count_2" * "count_2") AS "sum_2_2",
    SUM("count_3" * "count_3") AS "sum_3_3",
    SUM("count_4" * "count_4") AS "sum_4_4",
    SUM("count_5" * "count_5") AS "sum_5_5",
    SUM("count_6" * "count_6") AS "sum_6_6",
    SUM("count_7" * "count_7") AS "sum_7_7",
    SUM("value_8" * "value_8") AS "sum_8_8",
    SUM("count_9" * "count_9") AS "sum_9_9",
    SUM("count_10" * "count_10") AS "sum_10_10",
    SUM("count_11" * "count_11") AS "sum_11_11",
    SUM("value_1" * "count_0") AS "sum_0_1",
    SUM("count_2" * "count_0") AS "sum_2_1",
    SUM("count_3" * "count_4") AS "sum_3_4",
    SUM("count_5" * "count_6") AS "sum_5_6",
    SUM("count_7" * "count_0") AS "sum_7_1",
    SUM("value_8" * "count_9") AS "sum_8_9",
    SUM("count_10" * "count_11") AS "sum_10_11"
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
    THEN "sum_7"
    WHEN 5
    THEN "sum_8"
    WHEN 6
    THEN "sum_10"
    WHEN 7
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
    THEN "sum_7_7"
    WHEN 5
    THEN "sum_8_8"
    WHEN 6
    THEN "sum_10_10"
    WHEN 7
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
    WHEN 5
    THEN "sum_9"
    WHEN 6
    THEN "sum_11"
    WHEN 7
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
    WHEN 5
    THEN "sum_9_9"
    WHEN 6
    THEN "sum_11_11"
    WHEN 7
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
    THEN "sum_7_1"
    WHEN 5
    THEN "sum_8_9"
    WHEN 6
    THEN "sum_10_11"
    WHEN 7
    THEN "sum_1_1"
  END AS "sum_xy"
FROM "variant_sums"
CROSS JOIN (
  SELECT
    0 AS "row_index",
    'equal' AS "metric_id"
  UNION ALL
  SELECT
    1,
    'alternatives'
  UNION ALL
  SELECT
    2,
    'not-equal'
  UNION ALL
  SELECT
    3,
    'prefix'
  UNION ALL
  SELECT
    4,
    'literal-percent'
  UNION ALL
  SELECT
    5,
    'numbers'
  UNION ALL
  SELECT
    6,
    'range'
  UNION ALL
  SELECT
    7,
    '@exposure'
) AS "metric_rows"
