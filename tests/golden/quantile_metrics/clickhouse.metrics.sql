WITH "experiment_events" AS (
  SELECT
    "events"."exp_variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS Nullable(Float64)) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS Nullable(Float64)) AS "event_value",
    "events"."agg_type" = 'global' AND "events"."goal" = 'exposure' AS "term_goal_0",
    "events"."agg_type" = 'unit' AND "events"."goal" = 'conversion' AS "term_goal_1",
    "events"."agg_type" = 'unit' AND "events"."goal" = 'refund' AS "term_goal_2",
    startsWith("events"."product", 'p_') AS "term_filter_0",
    "events"."product" = 'p_1' AS "term_filter_1"
  FROM "events" AS "events"
  WHERE
    "events"."exp_id" = 'exp-1'
    AND "events"."date" >= CAST('2024-03-02' AS Nullable(DATE))
    AND "events"."date" < CAST('2024-03-13' AS Nullable(DATE))
    AND "events"."unit_type" = 'user'
    AND "events"."agg_type" IN ('global', 'unit')
    AND "events"."goal" IN ('exposure', 'conversion', 'refund')
    AND (
      "events"."goal" <> 'view' OR "events"."price" IN (1, 2, 3, 4, 5, 6, 7, 8)
    )
), "unit_goals" AS (
  SELECT
    "variant_id",
    "unit_id",
    COALESCE(SUM(CASE WHEN "term_goal_0" THEN "event_cnt" END), 0) AS "count_0",
    COALESCE(SUM(CASE WHEN "term_goal_1" THEN "event_value" END), 0) AS "value_1",
    COALESCE(SUM(CASE WHEN "term_goal_2" THEN "event_value" END), 0) AS "value_2",
    COALESCE(SUM(CASE WHEN "term_goal_1" AND "term_filter_0" THEN "event_value" END), 0) AS "value_3",
    COALESCE(SUM(CASE WHEN "term_goal_1" AND "term_filter_1" THEN "event_value" END), 0) AS "value_4"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_goal_0" THEN 1 END) > 0
), "unit_metrics" AS (
  SELECT
    *,
    "value_1" - "value_2" AS "expression_2",
    CAST(1 AS Nullable(Float64)) AS "expression_3",
    CAST(0 AS Nullable(Float64)) AS "expression_6"
  FROM "unit_goals"
), "variant_sums" AS (
  SELECT
    "variant_id",
    COUNT(*) AS "n",
    SUM("value_1") AS "sum_0",
    SUM("count_0") AS "sum_1",
    SUM("expression_2") AS "sum_2",
    SUM("expression_3") AS "sum_3",
    SUM("value_3") AS "sum_4",
    SUM("value_4") AS "sum_5",
    SUM("expression_6") AS "sum_6",
    SUM("value_1" * "value_1") AS "sum_0_0",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("expression_2" * "expression_2") AS "sum_2_2",
    SUM("expression_3" * "expression_3") AS "sum_3_3",
    SUM("value_3" * "value_3") AS "sum_4_4",
    SUM("value_4" * "value_4") AS "sum_5_5",
    SUM("expression_6" * "expression_6") AS "sum_6_6",
    SUM("value_1" * "count_0") AS "sum_0_1",
    SUM("expression_2" * "expression_3") AS "sum_2_3",
    SUM("value_1" * "expression_3") AS "sum_0_3",
    SUM("value_3" * "expression_3") AS "sum_4_3",
    SUM("value_4" * "count_0") AS "sum_5_1",
    SUM("expression_6" * "count_0") AS "sum_6_1"
  FROM "unit_metrics"
  GROUP BY
    "variant_id"
), "quantile_ranks_0" AS (
  SELECT
    "variant_id",
    "expression_2" AS "quantile_value",
    ROW_NUMBER() OVER (PARTITION BY "variant_id" ORDER BY "expression_2") AS "quantile_rank",
    COUNT(*) OVER (PARTITION BY "variant_id") AS "quantile_count"
  FROM "unit_metrics"
), "quantile_positions_0" AS (
  SELECT
    *,
    FLOOR((
      "quantile_count" - 1
    ) * (
      0.5
    )) + 1 AS "quantile_below_0",
    (
      "quantile_count" - 1
    ) * (
      0.5
    ) - FLOOR((
      "quantile_count" - 1
    ) * (
      0.5
    )) AS "quantile_weight_0",
    FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) + 1 AS "quantile_below_1",
    (
      "quantile_count" - 1
    ) * (
      CASE
        WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) < 0
        THEN 0
        WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) > 1
        THEN 1
        ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64)))
      END
    ) - FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.5 - 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) AS "quantile_weight_1",
    FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) + 1 AS "quantile_below_2",
    (
      "quantile_count" - 1
    ) * (
      CASE
        WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) < 0
        THEN 0
        WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) > 1
        THEN 1
        ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64)))
      END
    ) - FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.5 + 1.959963984540054 * SQRT(0.25 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) AS "quantile_weight_2"
  FROM "quantile_ranks_0"
), "quantile_0" AS (
  SELECT
    "variant_id" AS "quantile_0_variant_id",
    MAX("quantile_count") AS "quantile_0_n",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_0"
        THEN "quantile_value" * (
          1 - "quantile_weight_0"
        )
        WHEN "quantile_rank" = "quantile_below_0" + 1
        THEN "quantile_value" * "quantile_weight_0"
      END
    ) AS "quantile_0_hat",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_1"
        THEN "quantile_value" * (
          1 - "quantile_weight_1"
        )
        WHEN "quantile_rank" = "quantile_below_1" + 1
        THEN "quantile_value" * "quantile_weight_1"
      END
    ) AS "quantile_0_lower",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_2"
        THEN "quantile_value" * (
          1 - "quantile_weight_2"
        )
        WHEN "quantile_rank" = "quantile_below_2" + 1
        THEN "quantile_value" * "quantile_weight_2"
      END
    ) AS "quantile_0_upper"
  FROM "quantile_positions_0"
  GROUP BY
    "variant_id"
), "quantile_ranks_1" AS (
  SELECT
    "variant_id",
    "value_1" AS "quantile_value",
    ROW_NUMBER() OVER (PARTITION BY "variant_id" ORDER BY "value_1") AS "quantile_rank",
    COUNT(*) OVER (PARTITION BY "variant_id") AS "quantile_count"
  FROM "unit_metrics"
  WHERE
    "value_1" <> 0
), "quantile_positions_1" AS (
  SELECT
    *,
    FLOOR((
      "quantile_count" - 1
    ) * (
      0.9
    )) + 1 AS "quantile_below_0",
    (
      "quantile_count" - 1
    ) * (
      0.9
    ) - FLOOR((
      "quantile_count" - 1
    ) * (
      0.9
    )) AS "quantile_weight_0",
    FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) + 1 AS "quantile_below_1",
    (
      "quantile_count" - 1
    ) * (
      CASE
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
        THEN 0
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
        THEN 1
        ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
      END
    ) - FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) AS "quantile_weight_1",
    FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) + 1 AS "quantile_below_2",
    (
      "quantile_count" - 1
    ) * (
      CASE
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
        THEN 0
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
        THEN 1
        ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
      END
    ) - FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) AS "quantile_weight_2"
  FROM "quantile_ranks_1"
), "quantile_1" AS (
  SELECT
    "variant_id" AS "quantile_1_variant_id",
    MAX("quantile_count") AS "quantile_1_n",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_0"
        THEN "quantile_value" * (
          1 - "quantile_weight_0"
        )
        WHEN "quantile_rank" = "quantile_below_0" + 1
        THEN "quantile_value" * "quantile_weight_0"
      END
    ) AS "quantile_1_hat",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_1"
        THEN "quantile_value" * (
          1 - "quantile_weight_1"
        )
        WHEN "quantile_rank" = "quantile_below_1" + 1
        THEN "quantile_value" * "quantile_weight_1"
      END
    ) AS "quantile_1_lower",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_2"
        THEN "quantile_value" * (
          1 - "quantile_weight_2"
        )
        WHEN "quantile_rank" = "quantile_below_2" + 1
        THEN "quantile_value" * "quantile_weight_2"
      END
    ) AS "quantile_1_upper"
  FROM "quantile_positions_1"
  GROUP BY
    "variant_id"
), "quantile_events_2" AS (
  SELECT
    "quantile_unit"."variant_id" AS "variant_id",
    "quantile_unit"."unit_id" AS "unit_id",
    "quantile_event"."event_value" AS "quantile_value"
  FROM "experiment_events" AS "quantile_event"
  JOIN "unit_metrics" AS "quantile_unit"
    ON "quantile_event"."variant_id" = "quantile_unit"."variant_id"
    AND "quantile_event"."unit_id" = "quantile_unit"."unit_id"
  WHERE
    "quantile_event"."term_goal_1" AND "quantile_event"."term_filter_0"
), "quantile_ranks_2" AS (
  SELECT
    "variant_id",
    "quantile_value",
    ROW_NUMBER() OVER (PARTITION BY "variant_id" ORDER BY "quantile_value") AS "quantile_rank",
    COUNT(*) OVER (PARTITION BY "variant_id") AS "quantile_count"
  FROM "quantile_events_2"
), "quantile_positions_2" AS (
  SELECT
    *,
    FLOOR((
      "quantile_count" - 1
    ) * (
      0.9
    )) + 1 AS "quantile_below_0",
    (
      "quantile_count" - 1
    ) * (
      0.9
    ) - FLOOR((
      "quantile_count" - 1
    ) * (
      0.9
    )) AS "quantile_weight_0",
    FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) + 1 AS "quantile_below_1",
    (
      "quantile_count" - 1
    ) * (
      CASE
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
        THEN 0
        WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
        THEN 1
        ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
      END
    ) - FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 - 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) AS "quantile_weight_1",
    FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) + 1 AS "quantile_below_2",
    (
      "quantile_count" - 1
    ) * (
      CASE
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
        THEN 0
        WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
        THEN 1
        ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
      END
    ) - FLOOR(
      (
        "quantile_count" - 1
      ) * (
        CASE
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) < 0
          THEN 0
          WHEN 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64))) > 1
          THEN 1
          ELSE 0.9 + 1.959963984540054 * SQRT(0.09 / CAST("quantile_count" AS Nullable(Float64)))
        END
      )
    ) AS "quantile_weight_2"
  FROM "quantile_ranks_2"
), "quantile_2" AS (
  SELECT
    "variant_id" AS "quantile_2_variant_id",
    MAX("quantile_count") AS "quantile_2_n",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_0"
        THEN "quantile_value" * (
          1 - "quantile_weight_0"
        )
        WHEN "quantile_rank" = "quantile_below_0" + 1
        THEN "quantile_value" * "quantile_weight_0"
      END
    ) AS "quantile_2_hat",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_1"
        THEN "quantile_value" * (
          1 - "quantile_weight_1"
        )
        WHEN "quantile_rank" = "quantile_below_1" + 1
        THEN "quantile_value" * "quantile_weight_1"
      END
    ) AS "quantile_2_lower",
    SUM(
      CASE
        WHEN "quantile_rank" = "quantile_below_2"
        THEN "quantile_value" * (
          1 - "quantile_weight_2"
        )
        WHEN "quantile_rank" = "quantile_below_2" + 1
        THEN "quantile_value" * "quantile_weight_2"
      END
    ) AS "quantile_2_upper"
  FROM "quantile_positions_2"
  GROUP BY
    "variant_id"
), "quantile_units_2" AS (
  SELECT
    "quantile_events_2"."variant_id" AS "variant_id",
    SUM(
      CASE
        WHEN "quantile_events_2"."quantile_value" <= "quantile_2"."quantile_2_hat"
        THEN 1
        ELSE 0
      END
    ) AS "quantile_a",
    COUNT(*) AS "quantile_b"
  FROM "quantile_events_2"
  JOIN "quantile_2"
    ON "quantile_events_2"."variant_id" = "quantile_2"."quantile_2_variant_id"
  GROUP BY
    "quantile_events_2"."variant_id",
    "quantile_events_2"."unit_id"
), "quantile_clusters_2" AS (
  SELECT
    "variant_id" AS "quantile_clusters_2_variant_id",
    SUM("quantile_a") AS "quantile_clusters_2_sum_a",
    SUM("quantile_a" * "quantile_a") AS "quantile_clusters_2_sum_a2",
    SUM("quantile_b") AS "quantile_clusters_2_sum_b",
    SUM("quantile_b" * "quantile_b") AS "quantile_clusters_2_sum_b2",
    SUM("quantile_a" * "quantile_b") AS "quantile_clusters_2_sum_ab",
    COUNT(*) AS "quantile_clusters_2_units"
  FROM "quantile_units_2"
  GROUP BY
    "variant_id"
), "quantile_sums" AS (
  SELECT
    "variant_sums".*,
    "quantile_0"."quantile_0_n" AS "quantile_0_n",
    "quantile_0"."quantile_0_hat" AS "quantile_0_hat",
    "quantile_0"."quantile_0_lower" AS "quantile_0_lower",
    "quantile_0"."quantile_0_upper" AS "quantile_0_upper",
    "quantile_1"."quantile_1_n" AS "quantile_1_n",
    "quantile_1"."quantile_1_hat" AS "quantile_1_hat",
    "quantile_1"."quantile_1_lower" AS "quantile_1_lower",
    "quantile_1"."quantile_1_upper" AS "quantile_1_upper",
    "quantile_2"."quantile_2_n" AS "quantile_2_n",
    "quantile_2"."quantile_2_hat" AS "quantile_2_hat",
    "quantile_2"."quantile_2_lower" AS "quantile_2_lower",
    "quantile_2"."quantile_2_upper" AS "quantile_2_upper",
    "quantile_clusters_2"."quantile_clusters_2_sum_a" AS "quantile_clusters_2_sum_a",
    "quantile_clusters_2"."quantile_clusters_2_sum_a2" AS "quantile_clusters_2_sum_a2",
    "quantile_clusters_2"."quantile_clusters_2_sum_b" AS "quantile_clusters_2_sum_b",
    "quantile_clusters_2"."quantile_clusters_2_sum_b2" AS "quantile_clusters_2_sum_b2",
    "quantile_clusters_2"."quantile_clusters_2_sum_ab" AS "quantile_clusters_2_sum_ab",
    "quantile_clusters_2"."quantile_clusters_2_units" AS "quantile_clusters_2_units"
  FROM "variant_sums"
  LEFT JOIN "quantile_0"
    ON "variant_sums"."variant_id" = "quantile_0"."quantile_0_variant_id"
  LEFT JOIN "quantile_1"
    ON "variant_sums"."variant_id" = "quantile_1"."quantile_1_variant_id"
  LEFT JOIN "quantile_2"
    ON "variant_sums"."variant_id" = "quantile_2"."quantile_2_variant_id"
  LEFT JOIN "quantile_clusters_2"
    ON "variant_sums"."variant_id" = "quantile_clusters_2"."quantile_clusters_2_variant_id"
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
    THEN "sum_0"
    WHEN 3
    THEN "sum_4"
    WHEN 4
    THEN "sum_5"
    WHEN 5
    THEN "sum_6"
    WHEN 6
    THEN "sum_1"
  END AS "sum_x",
  CASE "row_index"
    WHEN 0
    THEN "sum_0_0"
    WHEN 1
    THEN "sum_2_2"
    WHEN 2
    THEN "sum_0_0"
    WHEN 3
    THEN "sum_4_4"
    WHEN 4
    THEN "sum_5_5"
    WHEN 5
    THEN "sum_6_6"
    WHEN 6
    THEN "sum_1_1"
  END AS "sum_x2",
  CASE "row_index"
    WHEN 0
    THEN "sum_1"
    WHEN 1
    THEN "sum_3"
    WHEN 2
    THEN "sum_3"
    WHEN 3
    THEN "sum_3"
    WHEN 4
    THEN "sum_1"
    WHEN 5
    THEN "sum_1"
    WHEN 6
    THEN "sum_1"
  END AS "sum_y",
  CASE "row_index"
    WHEN 0
    THEN "sum_1_1"
    WHEN 1
    THEN "sum_3_3"
    WHEN 2
    THEN "sum_3_3"
    WHEN 3
    THEN "sum_3_3"
    WHEN 4
    THEN "sum_1_1"
    WHEN 5
    THEN "sum_1_1"
    WHEN 6
    THEN "sum_1_1"
  END AS "sum_y2",
  CASE "row_index"
    WHEN 0
    THEN "sum_0_1"
    WHEN 1
    THEN "sum_2_3"
    WHEN 2
    THEN "sum_0_3"
    WHEN 3
    THEN "sum_4_3"
    WHEN 4
    THEN "sum_5_1"
    WHEN 5
    THEN "sum_6_1"
    WHEN 6
    THEN "sum_1_1"
  END AS "sum_xy",
  CASE "row_index"
    WHEN 1
    THEN "quantile_0_n"
    WHEN 2
    THEN "quantile_1_n"
    WHEN 3
    THEN "quantile_2_n"
  END AS "quantile_n",
  CASE "row_index"
    WHEN 1
    THEN "quantile_0_hat"
    WHEN 2
    THEN "quantile_1_hat"
    WHEN 3
    THEN "quantile_2_hat"
  END AS "quantile_hat",
  CASE "row_index"
    WHEN 1
    THEN "quantile_0_lower"
    WHEN 2
    THEN "quantile_1_lower"
    WHEN 3
    THEN "quantile_2_lower"
  END AS "quantile_lower",
  CASE "row_index"
    WHEN 1
    THEN "quantile_0_upper"
    WHEN 2
    THEN "quantile_1_upper"
    WHEN 3
    THEN "quantile_2_upper"
  END AS "quantile_upper",
  CASE "row_index" WHEN 3 THEN "quantile_clusters_2_sum_a" END AS "quantile_sum_a",
  CASE "row_index" WHEN 3 THEN "quantile_clusters_2_sum_a2" END AS "quantile_sum_a2",
  CASE "row_index" WHEN 3 THEN "quantile_clusters_2_sum_b" END AS "quantile_sum_b",
  CASE "row_index" WHEN 3 THEN "quantile_clusters_2_sum_b2" END AS "quantile_sum_b2",
  CASE "row_index" WHEN 3 THEN "quantile_clusters_2_sum_ab" END AS "quantile_sum_ab",
  CASE "row_index" WHEN 3 THEN "quantile_clusters_2_units" END AS "quantile_units"
FROM "quantile_sums"
CROSS JOIN (
  SELECT
    0 AS "row_index",
    '1' AS "metric_id"
  UNION ALL
  SELECT
    1,
    '2'
  UNION ALL
  SELECT
    2,
    '3'
  UNION ALL
  SELECT
    3,
    '4'
  UNION ALL
  SELECT
    4,
    '5'
  UNION ALL
  SELECT
    5,
    '@check:1'
  UNION ALL
  SELECT
    6,
    '@exposure'
) AS "metric_rows"
