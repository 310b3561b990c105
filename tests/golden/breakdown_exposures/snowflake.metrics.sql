WITH "exposure_groups" AS (
  SELECT
    CAST("exposures"."variant_id" AS VARCHAR) AS "variant_id",
    "exposures"."unit_id" AS "unit_id",
    "exposures"."country" AS "country",
    "exposures"."platform" AS "platform",
    COUNT(*) AS "exposure_count",
    MIN("exposures"."timestamp") AS "exposure_timestamp"
  FROM "exposures" AS "exposures"
  WHERE
    "exposures"."exp_id" = 'exp-1'
    AND NOT "exposures"."unit_id" IS NULL
    AND NOT "exposures"."variant_id" IS NULL
    AND NOT "exposures"."timestamp" IS NULL
    AND "exposures"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "exposures"."timestamp" < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
  GROUP BY
    CAST("exposures"."variant_id" AS VARCHAR),
    "exposures"."unit_id",
    "exposures"."country",
    "exposures"."platform"
), "exposure_rows" AS (
  SELECT
    "variant_id",
    "unit_id",
    "exposure_count",
    "exposure_timestamp",
    MIN("exposure_timestamp") OVER (PARTITION BY "unit_id") AS "first_exposure",
    CASE
      WHEN MIN("variant_id") OVER (PARTITION BY "unit_id") = MAX("variant_id") OVER (PARTITION BY "unit_id")
      THEN "variant_id"
    END AS "unit_variant"
  FROM "exposure_groups"
), "exposed_units" AS (
  SELECT
    "unit_variant" AS "variant_id",
    "unit_id",
    MIN("first_exposure") AS "first_exposure"
  FROM "exposure_rows"
  WHERE
    NOT "unit_variant" IS NULL
  GROUP BY
    "unit_variant",
    "unit_id"
), "attributed_events" AS (
  SELECT
    COALESCE("unit_variant", '@multiple:' || "variant_id") AS "variant_id",
    "unit_id",
    'exposure' AS "goal",
    "exposure_count" AS "cnt",
    CAST(NULL AS DOUBLE) AS "value"
  FROM "exposure_rows"
  UNION ALL
  SELECT
    "exposed_units"."variant_id" AS "variant_id",
    "exposed_units"."unit_id" AS "unit_id",
    "events"."event" AS "goal",
    1 AS "cnt",
    "events"."value" AS "value"
  FROM "events" AS "events"
  JOIN "exposed_units"
    ON "events"."unit_id" = "exposed_units"."unit_id"
  WHERE
    "events"."event" IN ('click', 'purchase')
    AND "events"."timestamp" >= "exposed_units"."first_exposure"
    AND "events"."timestamp" < "exposed_units"."first_exposure" + INTERVAL '259200 SECOND'
    AND "events"."timestamp" >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)
    AND "events"."timestamp" < CAST('2024-03-08 00:00:00' AS TIMESTAMP)
), "experiment_events" AS (
  SELECT
    "events"."variant_id" AS "variant_id",
    "events"."unit_id" AS "unit_id",
    CAST(COALESCE("events"."cnt", 0) AS DOUBLE) AS "event_cnt",
    CAST(COALESCE("events"."value", 0) AS DOUBLE) AS "event_value",
    CASE
      WHEN "events"."goal" = 'exposure'
      THEN 0
      WHEN "events"."goal" = 'click'
      THEN 1
      WHEN "events"."goal" = 'purchase'
      THEN 2
    END AS "term_index"
  FROM "attributed_events" AS "events"
  WHERE
    "events"."goal" IN ('exposure', 'click', 'purchase')
), "unit_segments" AS (
  SELECT
    "unit_id",
    "segment_0",
    "segment_1"
  FROM (
    SELECT
      "unit_id",
      "country" AS "segment_0",
      "platform" AS "segment_1",
      ROW_NUMBER() OVER (
        PARTITION BY "unit_id"
        ORDER BY "exposure_timestamp", "country", "platform", "variant_id"
      ) AS "segment_rank"
    FROM "exposure_groups"
  ) AS "ranked_segments"
  WHERE
    "segment_rank" = 1
), "unit_goals" AS (
  SELECT
    "variant_id",
    "unit_id",
    SUM(CASE WHEN "term_index" = 0 THEN "event_cnt" ELSE 0 END) AS "count_0",
    SUM(CASE WHEN "term_index" = 1 THEN "event_cnt" ELSE 0 END) AS "count_1",
    SUM(CASE WHEN "term_index" = 2 THEN "event_value" ELSE 0 END) AS "value_2"
  FROM "experiment_events"
  GROUP BY
    "variant_id",
    "unit_id"
  HAVING
    COUNT(CASE WHEN "term_index" = 0 THEN 1 END) > 0
), "segmented_unit_goals" AS (
  SELECT
    "unit_goals".*,
    "unit_segments"."segment_0",
    "unit_segments"."segment_1"
  FROM "unit_goals"
  LEFT JOIN "unit_segments"
    ON "unit_goals"."unit_id" = "unit_segments"."unit_id"
), "unit_metrics" AS (
  SELECT
    *
  FROM "segmented_unit_goals"
), "nominator_caps_0" AS (
  SELECT
    PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY
      "count_1") AS "cap_0_0"
  FROM "unit_metrics"
  WHERE
    NOT STARTSWITH("variant_id", '@multiple:')
), "capped_metrics" AS (
  SELECT
    "unit_metrics".*,
    CASE WHEN "count_1" > "cap_0_0" THEN "cap_0_0" ELSE "count_1" END AS "capped_3"
  FROM "unit_metrics"
  CROSS JOIN "nominator_caps_0"
), "variant_sums" AS (
  SELECT
    "variant_id",
    "segment_0",
    "segment_1",
    COUNT(*) AS "n",
    SUM("count_0") AS "sum_1",
    SUM("value_2") AS "sum_2",
    SUM("capped_3") AS "sum_3",
    SUM("count_0" * "count_0") AS "sum_1_1",
    SUM("value_2" * "value_2") AS "sum_2_2",
    SUM("capped_3" * "capped_3") AS "sum_3_3",
    SUM("capped_3" * "count_0") AS "sum_3_1",
    SUM("value_2" * "count_0") AS "sum_2_1"
  FROM "capped_metrics"
  GROUP BY
    "variant_id",
    "segment_0",
    "segment_1"
)
SELECT
  'exp-1' AS "exp_id",
  "variant_id" AS "exp_variant_id",
  "metric_id" AS "metric_id",
  "segment_0" AS "country",
  "segment_1" AS "platform",
  "n" AS "n",
  CASE "row_index" WHEN 0 THEN "sum_3" WHEN 1 THEN "sum_2" WHEN 2 THEN "sum_1" END AS "sum_x",
  CASE "row_index" WHEN 0 THEN "sum_3_3" WHEN 1 THEN "sum_2_2" WHEN 2 THEN "sum_1_1" END AS "sum_x2",
  CASE "row_index" WHEN 0 THEN "sum_1" WHEN 1 THEN "sum_1" WHEN 2 THEN "sum_1" END AS "sum_y",
  CASE "row_index" WHEN 0 THEN "sum_1_1" WHEN 1 THEN "sum_1_1" WHEN 2 THEN "sum_1_1" END AS "sum_y2",
  CASE "row_index" WHEN 0 THEN "sum_3_1" WHEN 1 THEN "sum_2_1" WHEN 2 THEN "sum_1_1" END AS "sum_xy"
FROM "variant_sums"
CROSS JOIN (VALUES
  (0, '1'),
  (1, '2'),
  (2, '@exposure')) AS "metric_rows"("row_index", "metric_id")
