CREATE TABLE "expsql_state"."expsql_state_78202803eeb7_v4_exposures_recent" AS
SELECT
  "exposures"."unit_id" AS "unit_id",
  "exposures"."exp_id" AS "exp_id",
  "exposures"."variant_id" AS "variant_id",
  "exposures"."timestamp" AS "timestamp",
  "exposures"."country" AS "country",
  "exposures"."platform" AS "platform"
FROM "expsql_state"."expsql_state_78202803eeb7_v3_exposures_recent" AS "exposures"
UNION ALL
SELECT
  "exposures"."unit_id" AS "unit_id",
  "exposures"."exp_id" AS "exp_id",
  "exposures"."variant_id" AS "variant_id",
  "exposures"."timestamp" AS "timestamp",
  "exposures"."country" AS "country",
  "exposures"."platform" AS "platform"
FROM "analytics"."exposures" AS "exposures"
WHERE
  "exposures"."exp_id" = 'checkout-2026'
  AND NOT "exposures"."unit_id" IS NULL
  AND NOT "exposures"."variant_id" IS NULL
  AND NOT "exposures"."timestamp" IS NULL
  AND "exposures"."timestamp" >= CAST('2026-11-12 06:00:00' AS TIMESTAMP)
  AND "exposures"."timestamp" < CAST('2026-11-13 06:00:00' AS TIMESTAMP);

CREATE TABLE "expsql_state"."expsql_state_78202803eeb7_v4_events_0_recent" AS
SELECT
  "events"."unit_id" AS "unit_id",
  "events"."event" AS "event",
  MIN("events"."product") AS "product",
  MIN("events"."timestamp") AS "timestamp",
  SUM("events"."expsql_count") AS "expsql_count",
  SUM("events"."value") AS "value"
FROM (
  SELECT
    "events"."unit_id" AS "unit_id",
    "events"."event" AS "event",
    "events"."product" AS "product",
    "events"."timestamp" AS "timestamp",
    "events"."expsql_count" AS "expsql_count",
    "events"."value" AS "value",
    0 AS "expsql_raw"
  FROM "expsql_state"."expsql_state_78202803eeb7_v3_events_0_recent" AS "events"
  UNION ALL
  SELECT
    "events"."unit_id" AS "unit_id",
    "events"."event" AS "event",
    "events"."product" AS "product",
    "events"."timestamp" AS "timestamp",
    1 AS "expsql_count",
    "events"."value" AS "value",
    1 AS "expsql_raw"
  FROM "analytics"."events" AS "events"
  WHERE
    "events"."event" IN ('click', 'purchase')
    AND "events"."timestamp" >= CAST('2026-11-05 06:00:00' AS TIMESTAMP)
    AND "events"."timestamp" < CAST('2026-11-13 06:00:00' AS TIMESTAMP)
    AND "events"."event_date" >= CAST('2026-11-05' AS DATE)
) AS "events"
JOIN (
  SELECT
    "unit_id" AS "unit_id",
    MIN("timestamp") AS "expsql_t0"
  FROM (
    SELECT
      "unit_id" AS "unit_id",
      "timestamp" AS "timestamp"
    FROM "expsql_state"."expsql_state_78202803eeb7_v1_exposures_base" AS "exposures"
    UNION ALL
    SELECT
      "unit_id" AS "unit_id",
      "timestamp" AS "timestamp"
    FROM "expsql_state"."expsql_state_78202803eeb7_v4_exposures_recent" AS "exposures"
  ) AS "exposures"
  GROUP BY
    "unit_id"
) AS "expsql_units"
  ON "events"."unit_id" = "expsql_units"."unit_id"
WHERE
  "events"."timestamp" >= "expsql_units"."expsql_t0" - INTERVAL '604800 SECOND'
  AND "events"."timestamp" < "expsql_units"."expsql_t0" + INTERVAL '608400 SECOND'
  AND (
    "events"."expsql_raw" = 0
    OR "events"."timestamp" >= CAST('2026-11-12 06:00:00' AS TIMESTAMP)
    OR "expsql_units"."expsql_t0" >= CAST('2026-11-12 06:00:00' AS TIMESTAMP)
  )
GROUP BY
  "events"."unit_id",
  "events"."event",
  CASE WHEN "events"."product" IN ('p_1', 'p_2') THEN 1 ELSE 0 END,
  CASE
    WHEN "events"."timestamp" >= "expsql_units"."expsql_t0" - INTERVAL '604800 SECOND'
    THEN 1
    ELSE 0
  END + CASE WHEN "events"."timestamp" >= "expsql_units"."expsql_t0" THEN 1 ELSE 0 END + CASE
    WHEN "events"."timestamp" >= "expsql_units"."expsql_t0" + INTERVAL '3600 SECOND'
    THEN 1
    ELSE 0
  END + CASE
    WHEN "events"."timestamp" >= "expsql_units"."expsql_t0" + INTERVAL '90000 SECOND'
    THEN 1
    ELSE 0
  END + CASE
    WHEN "events"."timestamp" >= "expsql_units"."expsql_t0" + INTERVAL '608400 SECOND'
    THEN 1
    ELSE 0
  END;

WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."platform" AS "platform",
    "exposures"."country" AS "country",
    "exposures"."timestamp" AS "exposure_timestamp"
  FROM (
    SELECT
      "exposures"."unit_id" AS "unit_id",
      "exposures"."exp_id" AS "exp_id",
      "exposures"."variant_id" AS "variant_id",
      "exposures"."timestamp" AS "timestamp",
      "exposures"."country" AS "country",
      "exposures"."platform" AS "platform"
    FROM "expsql_state"."expsql_state_78202803eeb7_v1_exposures_base" AS "exposures"
    UNION ALL
    SELECT
      "exposures"."unit_id" AS "unit_id",
      "exposures"."exp_id" AS "exp_id",
      "exposures"."variant_id" AS "variant_id",
      "exposures"."timestamp" AS "timestamp",
      "exposures"."country" AS "country",
      "exposures"."platform" AS "platform"
    FROM "expsql_state"."expsql_state_78202803eeb7_v4_exposures_recent" AS "exposures"
    UNION ALL
    SELECT
      "exposures"."unit_id" AS "unit_id",
      "exposures"."exp_id" AS "exp_id",
      "exposures"."variant_id" AS "variant_id",
      "exposures"."timestamp" AS "timestamp",
      "exposures"."country" AS "country",
      "exposures"."platform" AS "platform"
    FROM "analytics"."exposures" AS "exposures"
    WHERE
      "exposures"."exp_id" = 'checkout-2026'
      AND NOT "exposures"."unit_id" IS NULL
      AND NOT "exposures"."variant_id" IS NULL
      AND NOT "exposures"."timestamp" IS NULL
      AND "exposures"."timestamp" >= CAST('2026-11-13 06:00:00' AS TIMESTAMP)
      AND "exposures"."timestamp" < CAST('2026-11-29 00:00:00' AS TIMESTAMP)
  ) AS "exposures"
  WHERE
    "exposures"."exp_id" = 'checkout-2026'
    AND NOT "exposures"."unit_id" IS NULL
    AND NOT "exposures"."variant_id" IS NULL
    AND NOT "exposures"."timestamp" IS NULL
    AND "exposures"."timestamp" >= CAST('2026-11-01 00:00:00' AS TIMESTAMP)
    AND "exposures"."timestamp" < CAST('2026-11-29 00:00:00' AS TIMESTAMP)
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
    "experiment_exposures"."exposure_timestamp" AS "event_timestamp",
    "exposed_units"."first_exposure" AS "first_exposure",
    0 AS "pre_period",
    "experiment_exposures"."platform" AS "platform",
    CAST(NULL AS VARCHAR) AS "product"
  FROM "experiment_exposures"
  JOIN "exposed_units"
    ON "experiment_exposures"."unit_id" = "exposed_units"."unit_id"
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."event" AS "goal",
    "events"."expsql_count" AS "cnt",
    "events"."value" AS "value",
    0 AS "excluded",
    "events"."timestamp" AS "event_timestamp",
    "exposed_units"."first_exposure" AS "first_exposure",
    CASE WHEN "events"."timestamp" < "exposed_units"."first_exposure" THEN 1 ELSE 0 END AS "pre_period",
    CAST(NULL AS VARCHAR) AS "platform",
    "events"."product" AS "product"
  FROM (
    SELECT
      "events"."unit_id" AS "unit_id",
      "events"."event" AS "event",
      "events"."product" AS "product",
      "events"."timestamp" AS "timestamp",
      "events"."expsql_count" AS "expsql_count",
      "events"."value" AS "value"
    FROM "expsql_state"."expsql_state_78202803eeb7_v1_events_0_base" AS "events"
    UNION ALL
    SELECT
      "events"."unit_id" AS "unit_id",
      "events"."event" AS "event",
      "events"."product" AS "product",
      "events"."timestamp" AS "timestamp",
      "events"."expsql_count" AS "expsql_count",
      "events"."value" AS "value"
    FROM "expsql_state"."expsql_state_78202803eeb7_v4_events_0_recent" AS "events"
    UNION ALL
    SELECT
      "events"."unit_id" AS "unit_id",
      "events"."event" AS "event",
      "events"."product" AS "product",
      "events"."timestamp" AS "timestamp",
      1 AS "expsql_count",
      "events"."value" AS "value"
    FROM "analytics"."events" AS "events"
    WHERE
      "events"."event" IN ('click', 'purchase')
      AND "events"."timestamp" >= CAST('2026-11-06 06:00:00' AS TIMESTAMP)
      AND "events"."timestamp" < CAST('2026-11-29 00:00:00' AS TIMESTAMP)
      AND "events"."event_date" >= CAST('2026-11-06' AS DATE)
      AND (
        "events"."timestamp" >= CAST('2026-11-13 06:00:00' AS TIMESTAMP)
        OR (
          NOT EXISTS(
            SELECT
              1
            FROM "expsql_state"."expsql_state_78202803eeb7_v1_exposures_base" AS "held"
            WHERE
              "held"."unit_id" = "events"."unit_id"
          )
          AND NOT EXISTS(
            SELECT
              1
            FROM "expsql_state"."expsql_state_78202803eeb7_v4_exposures_recent" AS "held"
            WHERE
              "held"."unit_id" = "events"."unit_id"
          )
        )
      )
  ) AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
    AND NOT "exposed_units"."unit_variant" IS NULL
  WHERE
    "events"."event" IN ('purchase', 'click')
    AND (
      (
        "events"."timestamp" >= "exposed_units"."first_exposure" + INTERVAL '3600 SECOND'
        AND "events"."timestamp" < "exposed_units"."first_exposure" + INTERVAL '608400 SECOND'
      )
      OR (
        "events"."timestamp" >= "exposed_units"."first_exposure" - INTERVAL '604800 SECOND'
        AND "events"."timestamp" < "exposed_units"."first_exposure"
      )
    )
    AND "events"."timestamp" >= CAST('2026-10-25 00:00:00' AS TIMESTAMP)
    AND "events"."timestamp" < CAST('2026-11-29 00:00:00' AS TIMESTAMP)
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."excluded" AS "excluded",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS DOUBLE) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS DOUBLE) AS "event_value",
    "events"."goal" = 'exposure' AS "term_goal_0",
    "events"."goal" = 'purchase' AS "term_goal_1",
    "events"."goal" = 'click' AS "term_goal_2",
    "events"."product" IN ('p_1', 'p_2') AS "term_filter_0",
    "events"."pre_period" = 0 AS "term_filter_1",
    "events"."event_timestamp" < "events"."first_exposure" + INTERVAL '90000 SECOND' AS "term_filter_2",
    "events"."platform" = 'web' AS "term_filter_3",
    "events"."pre_period" = 1 AS "term_filter_4"
  FROM "attributed_events" AS "events"
  WHERE
    "events"."goal" IN ('exposure', 'click')
    OR (
      "events"."goal" = 'purchase' AND "events"."product" IN ('p_1', 'p_2')
    )
), "unit_segments" AS (
  SELECT
    "unit_id",
    "segment_0"
  FROM (
    SELECT
      "unit_id",
      "country" AS "segment_0",
      ROW_NUMBER() OVER (PARTITION BY "unit_id" ORDER BY "exposure_timestamp", "country", "variant_id") AS "segment_rank"
    FROM "experiment_exposures"
  ) AS "ranked_segments"
  WHERE
    "segment_rank" = 1
), "unit_goals" AS (
  SELECT
    "variant_id",
    "excluded",
    "unit_id",
    COALESCE(SUM(CASE WHEN "term_goal_0" THEN "event_cnt" END), 0) AS "count_0",
    COALESCE(
      SUM(
        CASE
          WHEN "term_goal_2" AND "term_filter_2" AND "term_filter_1"
          THEN "event_cnt"
        END
      ),
      0
    ) AS "count_2",
    COALESCE(SUM(CASE WHEN "term_goal_0" AND "term_filter_3" THEN "event_cnt" END), 0) AS "count_3",
    COALESCE(SUM(CASE WHEN "term_goal_2" AND "term_filter_4" THEN "event_cnt" END), 0) AS "count_5",
    COALESCE(
      SUM(
        CASE
          WHEN "term_goal_1" AND "term_filter_0" AND "term_filter_1"
          THEN "event_value"
        END
      ),
      0
    ) AS "value_1",
    COALESCE(
      SUM(
        CASE
          WHEN "term_goal_1" AND "term_filter_0" AND "term_filter_4"
          THEN "event_value"
        END
      ),
      0
    ) AS "value_4"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "excluded",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_goal_0" THEN 1 END) > 0
), "segmented_unit_goals" AS (
  SELECT
    "unit_goals".*,
    "unit_segments"."segment_0"
  FROM "unit_goals"
  LEFT JOIN "unit_segments"
    ON "unit_goals"."unit_id" = "unit_segments"."unit_id"
), "unit_metrics" AS (
  SELECT
    *,
    CAST(1 AS DOUBLE) AS "expression_6"
  FROM "segmented_unit_goals"
), "variant_sums" AS (
  SELECT
    "variant_id",
    "excluded",
    "segment_0",
    COUNT(*) AS "n",
    SUM("value_1") AS "sum_0",
    SUM("count_0") AS "sum_1",
    SUM("count_2") AS "sum_2",
    SUM("count_3") AS "sum_3",
    SUM("count_0") AS "sum_4",
    SUM("value_4") AS "sum_5",
    SUM("expression_6") AS "sum_6",
    SUM("count_5") AS "sum_7",
    SUM("value_1" * "value_1") AS "sum_0_0",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("count_2" * "count_2") AS "sum_2_2",
    SUM("count_3" * "count_3") AS "sum_3_3",
    SUM("count_0" * "count_0") AS "sum_4_4",
    SUM("value_4" * "value_4") AS "sum_5_5",
    SUM("expression_6" * "expression_6") AS "sum_6_6",
    SUM("count_5" * "count_5") AS "sum_7_7",
    SUM("value_1" * "count_0") AS "sum_0_1",
    SUM("count_2" * "count_3") AS "sum_2_3",
    SUM("value_4" * "expression_6") AS "sum_5_6",
    SUM("value_1" * "value_4") AS "sum_0_5",
    SUM("value_1" * "expression_6") AS "sum_0_6",
    SUM("count_0" * "value_4") AS "sum_1_5",
    SUM("count_0" * "expression_6") AS "sum_1_6",
    SUM("count_5" * "expression_6") AS "sum_7_6",
    SUM("count_2" * "count_5") AS "sum_2_7",
    SUM("count_2" * "expression_6") AS "sum_2_6",
    SUM("count_3" * "count_5") AS "sum_3_7",
    SUM("count_3" * "expression_6") AS "sum_3_6"
  FROM "unit_metrics"
  GROUP BY
    "variant_id",
    "excluded",
    "segment_0"
)
SELECT
  'checkout-2026' AS "exp_id",
  CASE WHEN "excluded" = 1 THEN '@multiple:' || "variant_id" ELSE "variant_id" END AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "segment_0" AS "country",
  "n" AS "n",
  CASE "row_index" WHEN 0 THEN "sum_0" WHEN 1 THEN "sum_2" WHEN 2 THEN "sum_4" END AS "sum_x",
  CASE "row_index" WHEN 0 THEN "sum_0_0" WHEN 1 THEN "sum_2_2" WHEN 2 THEN "sum_4_4" END AS "sum_x2",
  CASE "row_index" WHEN 0 THEN "sum_1" WHEN 1 THEN "sum_3" WHEN 2 THEN "sum_4" END AS "sum_y",
  CASE "row_index" WHEN 0 THEN "sum_1_1" WHEN 1 THEN "sum_3_3" WHEN 2 THEN "sum_4_4" END AS "sum_y2",
  CASE "row_index" WHEN 0 THEN "sum_0_1" WHEN 1 THEN "sum_2_3" WHEN 2 THEN "sum_4_4" END AS "sum_xy",
  CASE "row_index" WHEN 0 THEN "sum_5" WHEN 1 THEN "sum_7" END AS "sum_xc",
  CASE "row_index" WHEN 0 THEN "sum_5_5" WHEN 1 THEN "sum_7_7" END AS "sum_xc2",
  CASE "row_index" WHEN 0 THEN "sum_6" WHEN 1 THEN "sum_6" END AS "sum_yc",
  CASE "row_index" WHEN 0 THEN "sum_6_6" WHEN 1 THEN "sum_6_6" END AS "sum_yc2",
  CASE "row_index" WHEN 0 THEN "sum_5_6" WHEN 1 THEN "sum_7_6" END AS "sum_xc_yc",
  CASE "row_index" WHEN 0 THEN "sum_0_5" WHEN 1 THEN "sum_2_7" END AS "sum_x_xc",
  CASE "row_index" WHEN 0 THEN "sum_0_6" WHEN 1 THEN "sum_2_6" END AS "sum_x_yc",
  CASE "row_index" WHEN 0 THEN "sum_1_5" WHEN 1 THEN "sum_3_7" END AS "sum_y_xc",
  CASE "row_index" WHEN 0 THEN "sum_1_6" WHEN 1 THEN "sum_3_6" END AS "sum_y_yc"
FROM "variant_sums"
CROSS JOIN (VALUES
  (0, '1'),
  (1, '2'),
  (2, '@exposure')) AS "metric_rows"("row_index", "metric_id");
