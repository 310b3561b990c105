WITH "experiment_exposures" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR(MAX)) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."country" AS "country",
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
    CAST(NULL AS DOUBLE PRECISION) AS "value",
    "exposure_roles"."exposure_role" AS "excluded",
    0 AS "leaves",
    CASE
      WHEN NOT "exposure_roles"."exposure_role" = 0
      AND "experiment_exposures"."day" < "exposed_units"."excluded_day"
      THEN "exposed_units"."excluded_day"
      ELSE "experiment_exposures"."day"
    END AS "day"
  FROM "experiment_exposures"
  JOIN "exposed_units"
    ON "experiment_exposures"."unit_id" = "exposed_units"."unit_id"
  CROSS JOIN (
    SELECT
      0 AS "exposure_role"
    UNION ALL
    SELECT
      1
  ) AS "exposure_roles"
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
    CAST(NULL AS DOUBLE PRECISION) AS "value",
    0 AS "excluded",
    1 AS "leaves",
    "exposed_units"."excluded_day" AS "day"
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
    CAST("events"."timestamp" AS DATE) AS "day"
  FROM "events" AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
    AND (
      "exposed_units"."excluded_day" IS NULL
      OR CAST("events"."timestamp" AS DATE) < "exposed_units"."excluded_day"
    )
  WHERE
    "events"."event" = 'conversion'
    AND "events"."timestamp" >= "exposed_units"."first_exposure"
    AND "events"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "events"."timestamp" < CAST('2024-03-15 00:00:00' AS TIMESTAMP)
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."excluded" AS "excluded",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS DOUBLE PRECISION) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS DOUBLE PRECISION) AS "event_value",
    CASE
      WHEN "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."goal" = 'conversion'
      THEN 1
    END AS "term_index",
    CAST("events"."day" AS DATE) AS "day",
    "events"."leaves" AS "leaves"
  FROM "attributed_events" AS "events"
  WHERE
    "events"."goal" IN ('exposure', 'conversion')
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
), "unit_days" AS (
  SELECT
    "variant_id",
    "excluded",
    "unit_id",
    "day",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 1 THEN "event_cnt" ELSE 0 END) AS "count_1",
    SUM(CASE WHEN "term_index" = 1 THEN "event_value" ELSE 0 END) AS "value_1",
    MAX("leaves") AS "leaves"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "excluded",
    "unit_id",
    "day"
), "segmented_unit_days" AS (
  SELECT
    "unit_days".*,
    "unit_segments"."segment_0"
  FROM "unit_days"
  LEFT JOIN "unit_segments"
    ON "unit_days"."unit_id" = "unit_segments"."unit_id"
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
    SUM("value_1") OVER (
      PARTITION BY "unit_id", "variant_id", "excluded"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "cumulative_value_1"
  FROM "segmented_unit_days"
), "unit_entries" AS (
  SELECT
    *,
    CASE WHEN "cumulative_count_0" = "count_0" THEN 1 ELSE 0 END AS "entered"
  FROM "unit_cumulative"
  WHERE
    "cumulative_count_0" > 0
), "unit_metrics" AS (
  SELECT
    "variant_id",
    "excluded",
    "day",
    "entered",
    "leaves",
    "segment_0",
    CAST(CASE WHEN "cumulative_count_1" > 0 THEN 1 ELSE 0 END AS DOUBLE PRECISION) AS "current_0",
    CASE
      WHEN "entered" = 1
      THEN 0
      ELSE CAST(CASE WHEN (
        "cumulative_count_1" - "count_1"
      ) > 0 THEN 1 ELSE 0 END AS DOUBLE PRECISION)
    END AS "previous_current_0",
    "cumulative_count_0" AS "current_1",
    CASE WHEN "entered" = 1 THEN 0 ELSE (
      "cumulative_count_0" - "count_0"
    ) END AS "previous_current_1",
    "cumulative_value_1" AS "current_2",
    CASE WHEN "entered" = 1 THEN 0 ELSE (
      "cumulative_value_1" - "value_1"
    ) END AS "previous_current_2"
  FROM "unit_entries"
), "variant_days" AS (
  SELECT
    "variant_id",
    "excluded",
    "segment_0",
    "day",
    SUM("entered") - SUM("leaves") AS "n",
    SUM(CASE WHEN "leaves" = 0 THEN "current_0" ELSE 0 END - "previous_current_0") AS "sum_0",
    SUM(CASE WHEN "leaves" = 0 THEN "current_1" ELSE 0 END - "previous_current_1") AS "sum_1",
    SUM(CASE WHEN "leaves" = 0 THEN "current_2" ELSE 0 END - "previous_current_2") AS "sum_2",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_0" * "current_0" ELSE 0 END - "previous_current_0" * "previous_current_0"
    ) AS "sum_0_0",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_1" * "current_1" ELSE 0 END - "previous_current_1" * "previous_current_1"
    ) AS "sum_1_1",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_2" * "current_2" ELSE 0 END - "previous_current_2" * "previous_current_2"
    ) AS "sum_2_2",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_0" * "current_1" ELSE 0 END - "previous_current_0" * "previous_current_1"
    ) AS "sum_0_1",
    SUM(
      CASE WHEN "leaves" = 0 THEN "current_2" * "current_1" ELSE 0 END - "previous_current_2" * "previous_current_1"
    ) AS "sum_2_1"
  FROM "unit_metrics"
  GROUP BY
    "variant_id",
    "excluded",
    "segment_0",
    "day"
), "variant_sums" AS (
  SELECT
    "variant_id",
    "excluded",
    "segment_0",
    "day",
    CAST(SUM("n") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS "n",
    SUM("sum_0") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0",
    SUM("sum_1") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_1",
    SUM("sum_2") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_2",
    SUM("sum_0_0") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0_0",
    SUM("sum_1_1") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_1_1",
    SUM("sum_2_2") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_2_2",
    SUM("sum_0_1") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_0_1",
    SUM("sum_2_1") OVER (
      PARTITION BY "variant_id", "excluded", "segment_0"
      ORDER BY "day"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "sum_2_1"
  FROM "variant_days"
)
SELECT
  'exp-1' AS "exp_id",
  CASE WHEN "excluded" = 1 THEN '@multiple:' || "variant_id" ELSE "variant_id" END AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "segment_0" AS "country",
  "n" AS "n",
  CASE "row_index" WHEN 0 THEN "sum_0" WHEN 1 THEN "sum_2" WHEN 2 THEN "sum_1" END AS "sum_x",
  CASE "row_index" WHEN 0 THEN "sum_0_0" WHEN 1 THEN "sum_2_2" WHEN 2 THEN "sum_1_1" END AS "sum_x2",
  "sum_1" AS "sum_y",
  "sum_1_1" AS "sum_y2",
  CASE "row_index" WHEN 0 THEN "sum_0_1" WHEN 1 THEN "sum_2_1" WHEN 2 THEN "sum_1_1" END AS "sum_xy",
  "day"
FROM "variant_sums"
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
    '@exposure'
) AS "metric_rows"
