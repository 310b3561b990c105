WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."platform" AS "platform",
    "exposures"."timestamp" AS "exposure_timestamp",
    CAST("exposures"."timestamp" AS DATE) AS "day"
  FROM "exposures" AS "exposures"
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
    MIN("first_variant") AS "unit_variant",
    MIN("exposure_timestamp") AS "first_exposure",
    CAST(MIN(CASE WHEN "variant_id" <> "first_variant" THEN "exposure_timestamp" END) AS DATE) AS "excluded_day"
  FROM (
    SELECT
      "unit_id",
      "variant_id",
      "exposure_timestamp",
      FIRST_VALUE("variant_id") OVER (PARTITION BY "unit_id" ORDER BY "exposure_timestamp", "variant_id") AS "first_variant"
    FROM "experiment_exposures"
  ) AS "first_variants"
  GROUP BY
    "unit_id"
), "attributed_events" AS (
  SELECT
    CASE
      WHEN "exposure_roles"."exposure_role" = 0
      THEN "exposed_units"."unit_variant"
      ELSE "experiment_exposures"."variant_id"
    END AS "variant_id",
    "experiment_exposures"."unit_id" AS "unit_id",
    'exposure' AS "goal",
    1 AS "cnt",
    CAST(NULL AS DOUBLE) AS "value",
    "exposure_roles"."exposure_role" AS "excluded",
    0 AS "leaves",
    0 AS "pre_period",
    CASE
      WHEN NOT "exposure_roles"."exposure_role" = 0
      AND "experiment_exposures"."day" < "exposed_units"."excluded_day"
      THEN "exposed_units"."excluded_day"
      ELSE "experiment_exposures"."day"
    END AS "day",
    "experiment_exposures"."platform" AS "platform"
  FROM "experiment_exposures"
  JOIN "exposed_units"
    ON "experiment_exposures"."unit_id" = "exposed_units"."unit_id"
  CROSS JOIN (VALUES
    (0),
    (1)) AS "exposure_roles"("exposure_role")
  WHERE
    (
      "exposure_roles"."exposure_role" = 0
      AND (
        "exposed_units"."excluded_day" IS NULL
        OR "experiment_exposures"."day" < "exposed_units"."excluded_day"
      )
    )
    OR (
      "exposure_roles"."exposure_role" = 1
      AND NOT "exposed_units"."excluded_day" IS NULL
    )
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    'exposure' AS "goal",
    0 AS "cnt",
    CAST(NULL AS DOUBLE) AS "value",
    0 AS "excluded",
    1 AS "leaves",
    0 AS "pre_period",
    "exposed_units"."excluded_day" AS "day",
    CAST(NULL AS VARCHAR) AS "platform"
  FROM "exposed_units"
  WHERE
    NOT "exposed_units"."excluded_day" IS NULL
  UNION ALL
  SELECT
    "exposed_units"."unit_variant" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."event" AS "goal",
    1 AS "cnt",
    "events"."value" AS "value",
    0 AS "excluded",
    0 AS "leaves",
    CASE WHEN "events"."timestamp" < "exposed_units"."first_exposure" THEN 1 ELSE 0 END AS "pre_period",
    CAST("events"."timestamp" AS DATE) AS "day",
    CAST(NULL AS VARCHAR) AS "platform"
  FROM "events" AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
    AND (
      "exposed_units"."excluded_day" IS NULL
      OR CAST("events"."timestamp" AS DATE) < "exposed_units"."excluded_day"
    )
  WHERE
    "events"."event" = 'conversion'
    AND (
      (
        "events"."timestamp" >= "exposed_units"."first_exposure" + INTERVAL 3600 SECOND
        AND "events"."timestamp" < "exposed_units"."first_exposure" + INTERVAL 262800 SECOND
      )
      OR (
        "events"."timestamp" >= "exposed_units"."first_exposure" - INTERVAL 604800 SECOND
        AND "events"."timestamp" < "exposed_units"."first_exposure"
      )
    )
    AND "events"."timestamp" >= CAST('2024-02-23 00:00:00' AS TIMESTAMP)
    AND "events"."timestamp" < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
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
      WHEN "events"."goal" = 'conversion'
      THEN CASE WHEN "events"."pre_period" = 0 THEN 1 WHEN "events"."pre_period" = 1 THEN 2 END
    END AS "term_index",
    "events"."pre_period" AS "pre_period",
    CASE
      WHEN "events"."goal" = 'exposure' AND "events"."platform" IN ('web', 'ios')
      THEN 1
      ELSE 0
    END AS "unit_filter_0",
    CAST("events"."day" AS DATE) AS "day",
    "events"."leaves" AS "leaves"
  FROM "attributed_events" AS "events"
  WHERE
    (
      (
        "events"."goal" IN ('exposure', 'conversion')
      )
      OR (
        "events"."goal" = 'exposure' AND "events"."platform" IN ('web', 'ios')
      )
    )
), "unit_days" AS (
  SELECT
    "variant_id",
    "excluded",
    "unit_id",
    "day",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 1 THEN "event_cnt" ELSE 0 END) AS "count_1",
    SUM(CASE WHEN "term_index" = 2 THEN "event_cnt" ELSE 0 END) AS "count_2",
    SUM(CASE WHEN "term_index" = 1 THEN "event_value" ELSE 0 END) AS "value_1",
    SUM(CASE WHEN "term_index" = 2 THEN "event_value" ELSE 0 END) AS "value_2",
    MAX("unit_filter_0") AS "passed_unit_filter_0",
    MAX("leaves") AS "leaves"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "excluded",
    "unit_id",
    "day"
), "unit_cumulative" AS (
  SELECT
    *,
    SUM("count_0") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "cumulative_count_0",
    SUM("count_1") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "cumulative_count_1",
    SUM("count_2") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "cumulative_count_2",
    SUM("value_1") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "cumulative_value_1",
    SUM("value_2") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "cumulative_value_2",
    SUM("passed_unit_filter_0") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "cumulative_passed_unit_filter_0",
    MAX("day") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "last_day"
  FROM "unit_days"
), "unit_entries" AS (
  SELECT
    *,
    CASE
      WHEN "cumulative_count_0" = "count_0"
      OR "cumulative_passed_unit_filter_0" = "passed_unit_filter_0"
      THEN 1
      ELSE 0
    END AS "entered"
  FROM "unit_cumulative"
  WHERE
    "cumulative_count_0" > 0 AND "cumulative_passed_unit_filter_0" > 0
), "unit_metrics" AS (
  SELECT
    "variant_id",
    "excluded",
    "day",
    "last_day",
    "entered",
    "leaves",
    CAST(CASE WHEN "cumulative_count_1" > 0 THEN 1 ELSE 0 END AS DOUBLE) AS "current_0",
    CASE
      WHEN "entered" = 1
      THEN 0
      ELSE CAST(CASE WHEN (
        "cumulative_count_1" - "count_1"
      ) > 0 THEN 1 ELSE 0 END AS DOUBLE)
    END AS "previous_current_0",
    "cumulative_count_0" AS "current_1",
    CASE WHEN "entered" = 1 THEN 0 ELSE (
      "cumulative_count_0" - "count_0"
    ) END AS "previous_current_1",
    "cumulative_value_1" AS "current_2",
    CASE WHEN "entered" = 1 THEN 0 ELSE (
      "cumulative_value_1" - "value_1"
    ) END AS "previous_current_2",
    CAST(CASE WHEN "cumulative_count_2" > 0 THEN 1 ELSE 0 END AS DOUBLE) AS "current_3",
    CASE
      WHEN "entered" = 1
      THEN 0
      ELSE CAST(CASE WHEN (
        "cumulative_count_2" - "count_2"
      ) > 0 THEN 1 ELSE 0 END AS DOUBLE)
    END AS "previous_current_3",
    CAST(1 AS DOUBLE) AS "current_4",
    CASE WHEN "entered" = 1 THEN 0 ELSE CAST(1 AS DOUBLE) END AS "previous_current_4",
    "cumulative_value_2" AS "current_5",
    CASE WHEN "entered" = 1 THEN 0 ELSE (
      "cumulative_value_2" - "value_2"
    ) END AS "previous_current_5"
  FROM "unit_entries"
), "nominator_caps_0" AS (
  SELECT
    APPROX_PERCENTILE("current_2", 0.99) AS "cap_0_0"
  FROM "unit_metrics"
  WHERE
    "excluded" = 0 AND "day" = "last_day" AND "leaves" = 0
), "nominator_caps_1" AS (
  SELECT
    APPROX_PERCENTILE("current_5", 0.99) AS "cap_1_0"
  FROM "unit_metrics"
  WHERE
    "excluded" = 0 AND "day" = "last_day" AND "leaves" = 0
), "capped_metrics" AS (
  SELECT
    "unit_metrics".*,
    CASE WHEN "current_2" > "cap_0_0" THEN "cap_0_0" ELSE "current_2" END AS "capped_6",
    CASE WHEN "current_5" > "cap_1_0" THEN "cap_1_0" ELSE "current_5" END AS "capped_7",
    CASE
      WHEN "entered" = 1
      THEN 0
      ELSE CASE
        WHEN "previous_current_2" > "cap_0_0"
        THEN "cap_0_0"
        ELSE "previous_current_2"
      END
    END AS "previous_capped_6",
    CASE
      WHEN "entered" = 1
      THEN 0
      ELSE CASE
        WHEN "previous_current_5" > "cap_1_0"
        THEN "cap_1_0"
        ELSE "previous_current_5"
      END
    END AS "previous_capped_7"
  FROM "unit_metrics"
  CROSS JOIN "nominator_caps_0"
  CROSS JOIN "nominator_caps_1"
), "variant_days" AS (
  SELECT
    "variant_id",
    "excluded",
    "day",
    SUM("entered") - SUM("leaves") AS "n",
    SUM(CASE WHEN "leaves" = 0 THEN "current_0" ELSE 0 END - "previous_current_0") AS "sum_0",
    SUM(CASE WHEN "leaves" = 0 THEN "current_1" ELSE 0 END - "previous_current_1") AS "sum_1",
    SUM(CASE WHEN "leaves" = 0 THEN "current_3" ELSE 0 END - "previous_current_3") AS "sum_3",
    SUM(CASE WHEN "leaves" = 0 THEN "current_4" ELSE 0 END - "previous_current_4") AS "sum_4",
    SUM(CASE WHEN "leaves" = 0 THEN "capped_6" ELSE 0 END - "previous_capped_6") AS "sum_6",
    SUM(CASE WHEN "leaves" = 0 THEN "capped_7" ELSE 0 END - "previous_capped_7") AS "sum_7",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_0" * "current_0" ELSE 0 END - "previous_current_0" * "previous_current_0"
    ) AS "sum_0_0",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_1" * "current_1" ELSE 0 END - "previous_current_1" * "previous_current_1"
    ) AS "sum_1_1",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_3" * "current_3" ELSE 0 END - "previous_current_3" * "previous_current_3"
    ) AS "sum_3_3",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_4" * "current_4" ELSE 0 END - "previous_current_4" * "previous_current_4"
    ) AS "sum_4_4",
    SUM(
      CASE WHEN "leaves" = 0 THEN "capped_6" * "capped_6" ELSE 0 END - "previous_capped_6" * "previous_capped_6"
    ) AS "sum_6_6",
    SUM(
      CASE WHEN "leaves" = 0 THEN "capped_7" * "capped_7" ELSE 0 END - "previous_capped_7" * "previous_capped_7"
    ) AS "sum_7_7",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_0" * "current_1" ELSE 0 END - "previous_current_0" * "previous_current_1"
    ) AS "sum_0_1",
    SUM(
      CASE WHEN "leaves" = 0 THEN "capped_6" * "current_1" ELSE 0 END - "previous_capped_6" * "previous_current_1"
    ) AS "sum_6_1",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_3" * "current_4" ELSE 0 END - "previous_current_3" * "previous_current_4"
    ) AS "sum_3_4",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_0" * "current_3" ELSE 0 END - "previous_current_0" * "previous_current_3"
    ) AS "sum_0_3",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_0" * "current_4" ELSE 0 END - "previous_current_0" * "previous_current_4"
    ) AS "sum_0_4",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_1" * "current_3" ELSE 0 END - "previous_current_1" * "previous_current_3"
    ) AS "sum_1_3",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_1" * "current_4" ELSE 0 END - "previous_current_1" * "previous_current_4"
    ) AS "sum_1_4",
    SUM(
      CASE WHEN "leaves" = 0 THEN "capped_7" * "current_4" ELSE 0 END - "previous_capped_7" * "previous_current_4"
    ) AS "sum_7_4",
    SUM(
      CASE WHEN "leaves" = 0 THEN "capped_6" * "capped_7" ELSE 0 END - "previous_capped_6" * "previous_capped_7"
    ) AS "sum_6_7",
    SUM(
      CASE WHEN "leaves" = 0 THEN "capped_6" * "current_4" ELSE 0 END - "previous_capped_6" * "previous_current_4"
    ) AS "sum_6_4",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_1" * "capped_7" ELSE 0 END - "previous_current_1" * "previous_capped_7"
    ) AS "sum_1_7"
  FROM "capped_metrics"
  GROUP BY
    "variant_id",
    "excluded",
    "day"
), "variant_sums" AS (
  SELECT
    "variant_id",
    "excluded",
    "day",
    CAST(SUM("n") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS "n",
    SUM("sum_0") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0",
    SUM("sum_1") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_1",
    SUM("sum_3") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_3",
    SUM("sum_4") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_4",
    SUM("sum_6") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_6",
    SUM("sum_7") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_7",
    SUM("sum_0_0") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0_0",
    SUM("sum_1_1") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_1_1",
    SUM("sum_3_3") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_3_3",
    SUM("sum_4_4") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_4_4",
    SUM("sum_6_6") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_6_6",
    SUM("sum_7_7") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_7_7",
    SUM("sum_0_1") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0_1",
    SUM("sum_6_1") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_6_1",
    SUM("sum_3_4") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_3_4",
    SUM("sum_0_3") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0_3",
    SUM("sum_0_4") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0_4",
    SUM("sum_1_3") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_1_3",
    SUM("sum_1_4") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_1_4",
    SUM("sum_7_4") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_7_4",
    SUM("sum_6_7") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_6_7",
    SUM("sum_6_4") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_6_4",
    SUM("sum_1_7") OVER (
      PARTITION BY "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_1_7"
  FROM "variant_days"
)
SELECT
  'exp-1' AS "exp_id",
  CASE
    WHEN "excluded" = 1
    THEN CONCAT(CAST('@multiple:' AS VARCHAR), CAST("variant_id" AS VARCHAR))
    ELSE "variant_id"
  END AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "n" AS "n",
  CASE "row_index" WHEN 0 THEN "sum_0" WHEN 1 THEN "sum_6" WHEN 2 THEN "sum_1" END AS "sum_x",
  CASE "row_index" WHEN 0 THEN "sum_0_0" WHEN 1 THEN "sum_6_6" WHEN 2 THEN "sum_1_1" END AS "sum_x2",
  "sum_1" AS "sum_y",
  "sum_1_1" AS "sum_y2",
  CASE "row_index" WHEN 0 THEN "sum_0_1" WHEN 1 THEN "sum_6_1" WHEN 2 THEN "sum_1_1" END AS "sum_xy",
  CASE "row_index" WHEN 0 THEN "sum_3" WHEN 1 THEN "sum_7" END AS "sum_xc",
  CASE "row_index" WHEN 0 THEN "sum_3_3" WHEN 1 THEN "sum_7_7" END AS "sum_xc2",
  CASE "row_index" WHEN 0 THEN "sum_4" WHEN 1 THEN "sum_4" END AS "sum_yc",
  CASE "row_index" WHEN 0 THEN "sum_4_4" WHEN 1 THEN "sum_4_4" END AS "sum_yc2",
  CASE "row_index" WHEN 0 THEN "sum_3_4" WHEN 1 THEN "sum_7_4" END AS "sum_xc_yc",
  CASE "row_index" WHEN 0 THEN "sum_0_3" WHEN 1 THEN "sum_6_7" END AS "sum_x_xc",
  CASE "row_index" WHEN 0 THEN "sum_0_4" WHEN 1 THEN "sum_6_4" END AS "sum_x_yc",
  CASE "row_index" WHEN 0 THEN "sum_1_3" WHEN 1 THEN "sum_1_7" END AS "sum_y_xc",
  CASE "row_index" WHEN 0 THEN "sum_1_4" WHEN 1 THEN "sum_1_4" END AS "sum_y_yc",
  "day"
FROM "variant_sums"
CROSS JOIN (VALUES
  (0, '1'),
  (1, '2'),
  (2, '@exposure')) AS "metric_rows"("row_index", "metric_id")
